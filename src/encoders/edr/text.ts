/** Collects small strings into ~64 KiB pieces: one stream write per piece instead of per value. */
export class TextBatcher {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly limit = 65_536) {}

  /** Adds text; returns a piece to yield when enough has gathered. */
  push(text: string): string | undefined {
    this.parts.push(text);
    this.size += text.length;
    return this.size >= this.limit ? this.take() : undefined;
  }

  take(): string | undefined {
    if (this.size === 0) return undefined;
    const s = this.parts.join('');
    this.parts = [];
    this.size = 0;
    return s;
  }
}
