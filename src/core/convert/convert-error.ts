/** A conversion problem the user can act on: one line naming the file and what is wrong. */
export class ConvertError extends Error {
  override name = 'ConvertError';
}
