/* A fixed-size ring buffer of bytes for a single producer and a single consumer. */
#ifndef RING_BUFFER_H
#define RING_BUFFER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint8_t *data;
  size_t capacity; /* a power of two */
  size_t head;     /* next write position */
  size_t tail;     /* next read position */
} ring_buffer;

static inline size_t ring_buffer_used(const ring_buffer *rb) {
  return rb->head - rb->tail;
}

static inline size_t ring_buffer_free(const ring_buffer *rb) {
  return rb->capacity - ring_buffer_used(rb);
}

static inline int ring_buffer_push(ring_buffer *rb, uint8_t byte) {
  if (ring_buffer_free(rb) == 0) return -1;
  rb->data[rb->head & (rb->capacity - 1)] = byte;
  rb->head++;
  return 0;
}

static inline int ring_buffer_pop(ring_buffer *rb, uint8_t *out) {
  if (ring_buffer_used(rb) == 0) return -1;
  *out = rb->data[rb->tail & (rb->capacity - 1)];
  rb->tail++;
  return 0;
}

#endif /* RING_BUFFER_H */
