const transfer = (ArrayBuffer.prototype as unknown as { transfer?: (this: ArrayBuffer, length: number) => ArrayBuffer }).transfer;

/**
 * Frees an ArrayBuffer's memory now rather than at some later garbage collection: `transfer(0)`
 * detaches it, and V8 drops its backing store at once. Only for a buffer nothing reads any more.
 * Does nothing where `ArrayBuffer.prototype.transfer` is missing (the collector frees it then).
 */
export function freeArrayBuffer(buffer: ArrayBuffer): void {
  transfer?.call(buffer, 0);
}
