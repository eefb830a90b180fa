// Started by anvil-harness.test.ts as a separate process, then killed with SIGKILL: its anvil must die too.
import { startAnvil } from '../../support/anvil.ts';

const anvil = await startAnvil();
console.log(anvil.url);
setInterval(() => {}, 60_000);
