// A write left in flight by a writer that died is sent on by the next process that
// takes the site lock (FORMAT.md §5). When `marklog serve` does that repair and the
// remote cannot be reached, the pair falls to PSUE as for any host write, and serve
// says so on standard error. Before, the repair dropped what the write left: the pair
// was PSUE and serve said nothing.
import test from 'ava';
import {cliJson} from '../helpers/cli.js';
import {stopAgent} from '../helpers/agent-tls.js';
import {PipelinedClient} from '../helpers/nbd-pipelined-client.js';
import {firstLine, helperProgram} from '../helpers/processes.js';
import {serve, stopServe} from '../helpers/serve.js';
import {ok, sitesOverTls} from '../helpers/tls-sites.js';

test('serve sending on a write left in flight to a remote it cannot reach suspends the pair and warns of it', async t => {
  const {primary, agent} = await sitesOverTls(t, '4M');
  ok(['pair', 'create', '--site', primary, '--mvol', '0', '--rvol', '0']);
  t.is(await firstLine(helperProgram('left-in-flight', [primary, '0', '0', '4096'])), 'left');
  await stopAgent(agent);

  const served = await serve(t, primary, [], {env: {MARKLOG_LINK_RETRIES: '0'}});
  const host = await PipelinedClient.connect(served.port, '0');
  await host.write(64 * 1024, Buffer.alloc(4096, 9));
  await host.disconnect();
  t.not(await stopServe(served), 'hung');
  t.is(cliJson(['pair', 'display', '--site', primary]).pairs[0].state, 'PSUE');
  t.regex(served.stderr(), /pair 1 is now PSUE \(.+\) while sending on a write left in flight/);
});
