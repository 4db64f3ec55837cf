// The one module that chooses a transport for a link: from the address a link row
// keeps (LinkRow.remote) or that `site link --remote` was given. Importing it plugs
// the choice into the link opener (src/site/link-opener.ts), which the write path
// uses; so every entry point imports it for its effect: the command runner
// (src/cli/), the library (src/index.ts), the demo, the benchmarks, the tests' setup.
import {useTransports} from '../site/link-opener.js';
import {LocalDirectoryLink} from './local-link.js';
import type {LinkRow} from '../site/tables.js';
import type {SiteLink} from '../site/link.js';

/** The kinds of address a link can have. Only a directory on this machine so far; ssh:// and tls:// URLs go here. */
type AddressForm = {kind: 'directory'; dir: string};

function formOf(address: string): AddressForm {
  return {kind: 'directory', dir: address};
}

/** The link a row names, by its address's form. */
export function openLink(row: LinkRow): Promise<SiteLink> {
  const form = formOf(row.remote);
  switch (form.kind) {
    case 'directory':
      return LocalDirectoryLink.connect(row);
  }
}

/** A link to whatever site answers at `address`, for the first contact (`site link`). */
export function probe(address: string): Promise<SiteLink> {
  const form = formOf(address);
  switch (form.kind) {
    case 'directory':
      return LocalDirectoryLink.probe(form.dir);
  }
}

useTransports({open: openLink, probe});
