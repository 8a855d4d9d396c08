// Snappy compression for the Parquet writer: hyparquet-writer's snappyCompress (snappyjs, MIT,
// Copyright (c) 2016 Zhipeng Jia) step for step, so its output is the same bytes, but writing into
// one reused buffer sized for the worst case instead of growing a ByteWriter a byte at a time
// through a DataView. test/io-parquet-encode.test.ts compares the two on many inputs.

const MAX_HASH_TABLE_BITS = 14;
const MAX_OFFSET = 0xffff;
const INPUT_MARGIN = 15;

const hashFunc = (key: number, shift: number): number => Math.imul(key, 0x1e35a7bd) >>> shift;
const load32 = (a: Uint8Array, p: number): number => a[p] + (a[p + 1] << 8) + (a[p + 2] << 16) + (a[p + 3] << 24);
const equals32 = (a: Uint8Array, p: number, q: number): boolean => a[p] === a[q] && a[p + 1] === a[q + 1] && a[p + 2] === a[q + 2] && a[p + 3] === a[q + 3];

export class SnappyCompressor {
  private out = new Uint8Array(0);
  private pos = 0;
  private readonly tables: Uint32Array[] = [];

  /** The compressed bytes of `input` (a view, valid until the next call). */
  compress(input: Uint8Array): Uint8Array {
    const n = input.length;
    const worst = 32 + n + Math.ceil(n / 6);
    if (this.out.length < worst) this.out = new Uint8Array(worst);
    this.pos = 0;
    this.varInt(n);
    this.compressInput(input);
    return this.out.subarray(0, this.pos);
  }

  private varInt(value: number): void {
    const out = this.out;
    while ((value & ~0x7f) !== 0) {
      out[this.pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    out[this.pos++] = value;
  }

  private literal(input: Uint8Array, ip: number, len: number): void {
    const out = this.out;
    if (len <= 60) out[this.pos++] = (len - 1) << 2;
    else {
      const value = len - 1;
      const bytes = value < 0x100 ? 1 : value < 0x10000 ? 2 : value < 0x1000000 ? 3 : 4;
      out[this.pos++] = (59 + bytes) << 2;
      for (let i = 0; i < bytes; i++) out[this.pos++] = (value >>> (i * 8)) & 0xff;
    }
    out.set(input.subarray(ip, ip + len), this.pos);
    this.pos += len;
  }

  private copyLessThan64(offset: number, len: number): void {
    const out = this.out;
    if (len < 12 && offset < 2048) {
      out[this.pos++] = 1 + ((len - 4) << 2) + ((offset >>> 8) << 5);
      out[this.pos++] = offset & 0xff;
    } else {
      out[this.pos++] = 2 + ((len - 1) << 2);
      out[this.pos++] = offset & 0xff;
      out[this.pos++] = (offset >>> 8) & 0xff;
    }
  }

  private copy(offset: number, len: number): void {
    while (len >= 68) {
      this.copyLessThan64(offset, 64);
      len -= 64;
    }
    if (len > 64) {
      this.copyLessThan64(offset, 60);
      len -= 60;
    }
    this.copyLessThan64(offset, len);
  }

  private compressInput(input: Uint8Array): void {
    const inputSize = input.length;
    let hashTableBits = 1;
    while (1 << hashTableBits <= inputSize && hashTableBits <= MAX_HASH_TABLE_BITS) hashTableBits++;
    hashTableBits--;
    const shift = 32 - hashTableBits;
    this.tables[hashTableBits] ??= new Uint32Array(1 << hashTableBits);
    const table = this.tables[hashTableBits];
    table.fill(0);

    const ipEnd = inputSize;
    let ip = 0;
    let nextEmit = 0;
    if (inputSize >= INPUT_MARGIN) {
      const ipLimit = ipEnd - INPUT_MARGIN;
      ip++;
      let nextHash = hashFunc(load32(input, ip), shift);
      let going = true;
      while (going) {
        let skip = 32;
        let nextIp = ip;
        let candidate = 0;
        do {
          ip = nextIp;
          const hash = nextHash;
          const step = skip >>> 5;
          skip++;
          nextIp = ip + step;
          if (ip > ipLimit) {
            going = false;
            break;
          }
          nextHash = hashFunc(load32(input, nextIp), shift);
          candidate = table[hash];
          table[hash] = ip;
        } while (ip - candidate > MAX_OFFSET || !equals32(input, ip, candidate));
        if (!going) break;

        this.literal(input, nextEmit, ip - nextEmit);
        do {
          const base = ip;
          let matched = 4;
          while (ip + matched < ipEnd && input[ip + matched] === input[candidate + matched]) matched++;
          ip += matched;
          this.copy(base - candidate, matched);
          nextEmit = ip;
          if (ip >= ipLimit) {
            going = false;
            break;
          }
          table[hashFunc(load32(input, ip - 1), shift)] = ip - 1;
          const cur = hashFunc(load32(input, ip), shift);
          candidate = table[cur];
          table[cur] = ip;
        } while (ip - candidate <= MAX_OFFSET && equals32(input, ip, candidate));
        if (!going) break;

        ip++;
        nextHash = hashFunc(load32(input, ip), shift);
      }
    }
    if (nextEmit < ipEnd) this.literal(input, nextEmit, ipEnd - nextEmit);
  }
}
