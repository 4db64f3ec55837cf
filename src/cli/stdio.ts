// The inputs and outputs of `write` and `read`: a file or a standard stream, moved
// in pieces through one buffer. Standard input is read through its descriptor
// (fd-io waits out a non-blocking pipe): as a Node stream it would hand over a new
// 64 KiB buffer per read, tens of MiB of garbage over a long write. Standard
// output goes through process.stdout, one piece in flight at a time: the event
// loop waits for a slow reader, where polling a non-blocking pipe would not.
import fs from 'node:fs';
import tty from 'node:tty';
import {InvalidArgumentError} from '../errors.js';
import {readFull, writeFull} from '../util/fd-io.js';
import type {ByteSink, ByteSource} from '../io/host-stream.js';

const STDIN = 0;

export interface OpenSource extends ByteSource {
  close(): void;
}

/** The data for `write`: a file (its size known up front when it is a regular one) or standard input. */
export function openInput(file?: string): OpenSource {
  if (file === undefined && tty.isatty(STDIN)) throw new InvalidArgumentError('give the data with --file, or pipe it to standard input');
  const fd = file === undefined ? STDIN : fs.openSync(file, 'r');
  const stat = fs.fstatSync(fd);
  return {
    name: file === undefined ? 'standard input' : JSON.stringify(file),
    ...(stat.isFile() ? {size: stat.size} : {}),
    read: (buffer, length) => readFull(fd, buffer, length),
    close: () => {
      if (fd !== STDIN) fs.closeSync(fd);
    },
  };
}

/** Runs `work` on the input of `write`, closing it after. */
export async function withInput<T>(file: string | undefined, work: (input: ByteSource) => Promise<T>): Promise<T> {
  const input = openInput(file);
  try {
    return await work(input);
  } finally {
    input.close();
  }
}

/**
 * Where `read` puts the bytes: standard output, or a file created (or emptied)
 * for them. A regular file is written sparse: holes of the volume stay holes.
 */
export function openOutput(file?: string): ByteSink {
  if (file === undefined) {
    return {sparse: false, write: (buffer, length) => toStdout(buffer.subarray(0, length)), finish: () => {}, close: () => {}};
  }
  const fd = fs.openSync(file, 'w');
  const sparse = fs.fstatSync(fd).isFile();
  return {
    sparse,
    write: (buffer, length, at) => writeFull(fd, buffer, length, sparse ? at : null),
    finish: length => {
      if (sparse) fs.ftruncateSync(fd, length);
    },
    close: () => fs.closeSync(fd),
  };
}

function toStdout(data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(data, error => (error ? reject(error) : resolve()));
  });
}
