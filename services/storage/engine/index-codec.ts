import type { IndexCodec } from '../block/builder';
import { TagIndex } from '../index/tag-index';

/** The tag index the head and blocks use. */
export const tagIndexCodec: IndexCodec = {
  create: () => new TagIndex(),
  decode: (bytes) => TagIndex.decode(bytes),
};
