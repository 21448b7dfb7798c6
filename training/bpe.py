"""Byte-level BPE: training, encoding, and the Hugging Face tokenizer.json format.

Hugging Face tokenizers (what src/core/model/tokenizer.ts runs) encodes the same way; test/smoke checks
that they agree token for token.
Pre-tokenization uses the GPT-2 split pattern; bytes are mapped to printable characters the
GPT-2 way so merges can be stored as "a b" strings.
"""
import heapq
import json
from collections import Counter

import regex

# GPT-2's split pattern with whitespace spelled out, so Python's `regex` and JavaScript agree exactly.
WS = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
SPLIT_PATTERN = f"'(?:[sdmt]|ll|ve|re)| ?\\p{{L}}+| ?\\p{{N}}+| ?[^{WS}\\p{{L}}\\p{{N}}]+|[{WS}]+(?![^{WS}])|[{WS}]+"
_split = regex.compile(SPLIT_PATTERN)
_lone_surrogate = regex.compile("[\\ud800-\\udfff]")


def byte_to_char():
    """Bytes 0..255 -> printable characters (printable Latin-1 bytes keep their own character)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_TO_CHAR = byte_to_char()


def pretokenize(text):
    return _split.findall(text)


def train(texts, vocab_size, log=print):
    """Learn merges until the vocabulary (256 bytes + merges) reaches vocab_size."""
    assert vocab_size > 256, "vocab_size must exceed the 256 byte symbols"
    counts = Counter()
    for t in texts:
        counts.update(pretokenize(t))
    words = [list(w.encode("utf-8")) for w in counts]
    freqs = list(counts.values())
    log(f"bpe: {len(words):,} distinct pre-tokens")

    pair_count = Counter()
    where = {}
    for wi, (w, f) in enumerate(zip(words, freqs)):
        for p in zip(w, w[1:]):
            pair_count[p] += f
            where.setdefault(p, set()).add(wi)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)

    merges = []  # (left id, right id), new id = 256 + index
    while 256 + len(merges) < vocab_size and heap:
        negc, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -negc:
            continue  # stale entry
        if -negc < 2:
            break
        new_id = 256 + len(merges)
        merges.append(pair)
        touched = set()
        for wi in list(where.get(pair, ())):
            w, f = words[wi], freqs[wi]
            for p in zip(w, w[1:]):
                pair_count[p] -= f
                touched.add(p)
            merged, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == pair[0] and w[i + 1] == pair[1]:
                    merged.append(new_id)
                    i += 2
                else:
                    merged.append(w[i])
                    i += 1
            words[wi] = merged
            for p in zip(merged, merged[1:]):
                pair_count[p] += f
                where.setdefault(p, set()).add(wi)
                touched.add(p)
        del pair_count[pair]
        where.pop(pair, None)
        for p in touched:
            c = pair_count.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, p))
    return merges


class Tokenizer:
    def __init__(self, vocab, merges):
        self.vocab = vocab  # token string -> id
        self.ranks = {m: i for i, m in enumerate(merges)}  # (a, b) token strings -> rank
        self._cache = {}

    @classmethod
    def from_merges(cls, merges):
        names = [BYTE_TO_CHAR[b] for b in range(256)]
        merge_strings = []
        for a, b in merges:
            merge_strings.append((names[a], names[b]))
            names.append(names[a] + names[b])
        return cls({n: i for i, n in enumerate(names)}, merge_strings)

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        model = data["model"]
        assert model["type"] == "BPE", f"{path}: expected a BPE model, got {model['type']}"
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
        return cls(model["vocab"], merges)

    def save(self, path):
        merges = [f"{a} {b}" for (a, b), _ in sorted(self.ranks.items(), key=lambda kv: kv[1])]
        data = {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [],
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": True},
            "post_processor": None,
            "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": True},
            "model": {
                "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                "vocab": self.vocab, "merges": merges,
            },
        }
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=None)

    def _bpe(self, piece):
        hit = self._cache.get(piece)
        if hit is not None:
            return hit
        ids = self._bpe_bytes(_lone_surrogate.sub("\ufffd", piece).encode("utf-8"))
        if len(self._cache) < 500_000:
            self._cache[piece] = ids
        return ids

    def _bpe_bytes(self, data):
        """Merges the lowest-ranked adjacent pair first, the leftmost among equals, as Hugging Face
        tokenizers does; a heap over a linked list keeps long pieces O(n log n)."""
        syms = [BYTE_TO_CHAR[b] for b in data]
        n = len(syms)
        nxt = list(range(1, n)) + [-1]
        prv = list(range(-1, n - 1))

        def pair(i):
            j = nxt[i] if i >= 0 else -1
            r = self.ranks.get((syms[i], syms[j])) if j >= 0 else None
            return None if r is None else (r, i, syms[i], syms[j])

        heap = [p for p in map(pair, range(n - 1)) if p is not None]
        heapq.heapify(heap)
        while heap:
            _, i, a, b = heapq.heappop(heap)
            j = nxt[i]
            if syms[i] != a or j < 0 or syms[j] != b:
                continue  # stale: a neighbour was merged since
            syms[i] = a + b
            syms[j] = None
            nxt[i] = nxt[j]
            if nxt[j] >= 0:
                prv[nxt[j]] = i
            for p in (pair(prv[i]), pair(i)):
                if p is not None:
                    heapq.heappush(heap, p)
        return [self.vocab[s] for s in syms if s is not None]

    def encode(self, text):
        ids = []
        for piece in pretokenize(text):
            ids.extend(self._bpe(piece))
        return ids
