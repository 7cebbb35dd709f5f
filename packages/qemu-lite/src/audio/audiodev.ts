/**
 * Audio backends (QEMU's -audiodev DRIVER,id=ID,...): `wav` records what the sound card
 * plays into a WAV file; `none` discards it. A card's voice is 16-bit signed stereo at the
 * rate the guest programs. The wav file's rate is out.frequency when given, else the
 * voice's rate when the first sample arrives; a voice at another rate is resampled
 * (linear interpolation), as QEMU's mixing engine converts to the backend's format.
 */
import type { AudioSink } from '../devices/ac97/ac97';
import { WavWriter } from './wav';

export interface AudiodevBackend extends AudioSink {
  readonly id: string;
  close(): void;
}

export class NoAudiodev implements AudiodevBackend {
  constructor(readonly id: string) {}
  setRate(): void {}
  write(): void {}
  close(): void {}
}

export class WavAudiodev implements AudiodevBackend {
  private writer: WavWriter | undefined;
  private voiceRate = 48000;
  /** Resampler state: position (in input frames) of the next output frame, and the last input frame. */
  private pos = 0;
  private lastL = 0;
  private lastR = 0;
  private haveLast = false;

  constructor(readonly id: string, readonly path: string, private fileRate?: number) {
    // Created at start (as QEMU opens the file at start), so the file exists even if nothing plays.
    if (fileRate !== undefined) this.writer = new WavWriter(path, { sampleRate: fileRate, channels: 2, bitsPerSample: 16 });
  }

  setRate(hz: number): void {
    this.voiceRate = hz;
  }

  write(pcm: Uint8Array): void {
    if (this.writer === undefined) {
      this.fileRate = this.voiceRate;
      this.writer = new WavWriter(this.path, { sampleRate: this.voiceRate, channels: 2, bitsPerSample: 16 });
    }
    if (this.voiceRate === this.fileRate) {
      this.writer.write(pcm);
      return;
    }
    this.writer.write(this.resample(pcm));
  }

  private resample(pcm: Uint8Array): Uint8Array {
    const inDv = new DataView(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    const frames = pcm.length >> 2;
    const step = this.voiceRate / this.fileRate!;
    const out: number[] = [];
    // Input frame -1 is the last frame of the previous chunk.
    const frame = (i: number, ch: number) => (i < 0 ? (ch ? this.lastR : this.lastL) : inDv.getInt16(4 * i + 2 * ch, true));
    if (!this.haveLast && frames > 0) {
      this.lastL = frame(0, 0);
      this.lastR = frame(0, 1);
      this.haveLast = true;
    }
    while (this.pos < frames - 1 + 1e-9 && frames > 0) {
      const i = Math.floor(this.pos);
      const f = this.pos - i;
      for (let ch = 0; ch < 2; ch++) out.push(Math.round(frame(i - 1, ch) * (1 - f) + frame(i, ch) * f));
      this.pos += step;
    }
    this.pos -= frames;
    if (frames > 0) {
      this.lastL = frame(frames - 1, 0);
      this.lastR = frame(frames - 1, 1);
    }
    const bytes = new Uint8Array(out.length * 2);
    const dv = new DataView(bytes.buffer);
    out.forEach((s, k) => dv.setInt16(2 * k, s, true));
    return bytes;
  }

  close(): void {
    if (this.writer === undefined) this.writer = new WavWriter(this.path, { sampleRate: this.fileRate ?? this.voiceRate, channels: 2, bitsPerSample: 16 });
    this.writer.close();
  }
}
