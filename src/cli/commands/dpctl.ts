// `xdpswitch dpctl`: the kernel openvswitch datapaths (tier 2) as ovs-dpctl shows them —
// datapaths and ports with their counters, megaflows in ovs-dpctl's format, and flush.
// Reads the kernel directly (src/kdp), so it works with or without the daemon running.
import { KernelDatapath, kernelDatapathAvailable } from '../../kdp/datapath.js';
import { formatFlow } from '../../kdp/format.js';
import { UsageError, type Command } from '../command.js';

const usage = `usage: xdpswitch dpctl COMMAND [DP]

  show DP          the datapath's lookups, flows and ports with their counters
  dump-flows DP    its megaflows, as ovs-dpctl dump-flows prints them
  del-flows DP     deletes every megaflow of the datapath

DP is the datapath name (its local port's name); "system@" in front is accepted.
Opening a datapath does not take its upcalls: the daemon running it keeps them.`;

async function withDp<T>(name: string | undefined, fn: (dp: KernelDatapath) => Promise<T>): Promise<T> {
  if (!name) throw new UsageError('a datapath name is required');
  const dp = await KernelDatapath.inspect(name.replace(/^system@/, ''));
  try {
    return await fn(dp);
  } finally {
    dp.close();
  }
}

const dpctl: Command = {
  name: 'dpctl',
  summary: 'show the kernel openvswitch datapath (tier 2): ports, megaflows, counters',
  usage,
  async run(argv) {
    const [cmd, name] = argv;
    const out = (s: string): boolean => process.stdout.write(`${s}\n`);
    if (cmd && ['show', 'dump-flows', 'del-flows'].includes(cmd) && !(await kernelDatapathAvailable())) {
      process.stderr.write('xdpswitch dpctl: no kernel datapath here (the openvswitch module is not loaded)\n');
      return 1;
    }
    switch (cmd) {
      case 'show':
        return withDp(name, async (dp) => {
          const s = await dp.stats();
          out(`system@${dp.name}:`);
          out(`  lookups: hit:${s.hit} missed:${s.missed} lost:${s.lost}`);
          out(`  flows: ${s.flows}`);
          for (const p of await dp.ports()) {
            out(`  port ${p.portNo}: ${p.name}${p.type === 'netdev' ? '' : ` (${p.type})`}`);
            if (p.stats) out(`    RX packets:${p.stats.rx_packets} dropped:${p.stats.rx_dropped}  TX packets:${p.stats.tx_packets} dropped:${p.stats.tx_dropped}`);
          }
          return 0;
        });
      case 'dump-flows':
        return withDp(name, async (dp) => {
          const now = process.hrtime.bigint() / 1_000_000n;
          for (const f of await dp.dumpFlows()) out(formatFlow(f, now));
          return 0;
        });
      case 'del-flows':
        return withDp(name, async (dp) => {
          await dp.flushFlows();
          return 0;
        });
      default:
        throw new UsageError(cmd ? `unknown dpctl command "${cmd}"` : 'a dpctl command is required');
    }
  },
};

export default dpctl;
