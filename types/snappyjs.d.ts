// Type declarations for snappyjs (the package ships none). Snappy *block* format only.
declare module 'snappyjs' {
  /** Compresses into the snappy block format. Returns the same kind of container it was given. */
  export function compress<T extends Uint8Array | ArrayBuffer>(input: T): T;
  /**
   * Decompresses a snappy block. With `maxLength`, throws before allocating when the length
   * preamble claims more than that. Throws on corrupt input.
   */
  export function uncompress<T extends Uint8Array | ArrayBuffer>(input: T, maxLength?: number): T;
  const snappy: { compress: typeof compress; uncompress: typeof uncompress };
  export default snappy;
}
