// Whole-buffer input and output that work on pipes of any speed: a slow producer
// or consumer must never cost a byte (readFileSync(0) and writeSync(1) can stop
// short on a non-blocking pipe).
import fs from 'node:fs';
import {InvalidArgumentError} from '../errors.js';

export async function readInput(file?: string): Promise<Buffer> {
  if (file !== undefined) return fs.readFileSync(file);
  if (process.stdin.isTTY) throw new InvalidArgumentError('give the data with --file, or pipe it to standard input');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function writeOutput(data: Buffer, file?: string): Promise<void> {
  if (file !== undefined) {
    fs.writeFileSync(file, data);
    return;
  }
  await new Promise<void>((resolve, reject) => {
    process.stdout.write(data, error => (error ? reject(error) : resolve()));
  });
}
