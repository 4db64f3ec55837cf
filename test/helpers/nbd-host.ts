// A host writing through `marklog serve` (Fig. 15 with a real NBD client) that knows
// what it was told: bursts of block writes all in flight at once, each block filled
// with one seeded byte value, and a model of the export into which a write goes once
// the server acknowledged it. The blocks of one burst are distinct and a burst ends
// before the next begins, so the model does not depend on the order the server
// answers in. Whatever fault the link between the sites suffers, the M-VOL must hold
// the model: every acknowledged write.
import {Rng} from './fuzz.js';
import {PipelinedClient} from './nbd-pipelined-client.js';

export class ModelHost {
  readonly model: Buffer;
  /** Writes the server acknowledged, and their bytes. */
  acknowledged = 0;
  bytes = 0;
  private readonly rng: Rng;

  private constructor(readonly client: PipelinedClient, size: number, seed: number, readonly block: number) {
    this.model = Buffer.alloc(size);
    this.rng = new Rng(seed);
  }

  /** GO to export `name` at a loopback port or a Unix socket; `base` is what the export holds now (zeros by default). */
  static async connect(address: number | string, name: string, options: {seed: number; block?: number; base?: Buffer}): Promise<ModelHost> {
    const client = await PipelinedClient.connect(address, name);
    const host = new ModelHost(client, client.size, options.seed, options.block ?? 4096);
    options.base?.copy(host.model);
    return host;
  }

  /** `count` writes to distinct random blocks, sent together; resolves once all are acknowledged (an NBD error throws). */
  async burst(count: number): Promise<void> {
    const blocks = new Set<number>();
    while (blocks.size < count) blocks.add(this.rng.int(this.model.length / this.block));
    await this.writeBlocks([...blocks]);
  }

  /** One write to each of these (distinct) blocks, sent together; resolves once all are acknowledged. */
  async writeBlocks(blocks: readonly number[]): Promise<void> {
    const writes = blocks.map(block => {
      const data = Buffer.alloc(this.block, this.rng.int(255) + 1);
      return this.client.write(block * this.block, data).then(() => ({block, data}));
    });
    for (const {block, data} of await Promise.all(writes)) {
      data.copy(this.model, block * this.block);
      this.acknowledged++;
      this.bytes += data.length;
    }
  }

  /** `bursts` bursts of `count`, one after another. */
  async bursts(bursts: number, count: number): Promise<void> {
    for (let i = 0; i < bursts; i++) await this.burst(count);
  }

  /** A copy of the model now: what a mark taken at this moment must restore. */
  snapshot(): Buffer {
    return Buffer.from(this.model);
  }
}
