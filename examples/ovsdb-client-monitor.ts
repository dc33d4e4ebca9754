// examples/ovsdb-client-monitor.ts — watch bridges, ports and interfaces with the
// xdpswitch/ovsdb-client library: one monitor keeps a local replica up to date and the
// tree is reprinted on every change; --add-br NAME first creates a bridge the way
// `ovs-vsctl add-br` does (a typed transaction with named UUIDs). Works against
// xdpswitch and against ovsdb-server alike.
//   npx tsx examples/ovsdb-client-monitor.ts [unix:/var/run/openvswitch/db.sock] [--add-br br0]
import { OvsdbClient, ovsdb, TransactionError, type Monitor } from 'xdpswitch/ovsdb-client';

const args = process.argv.slice(2);
const remote = args.find((a) => !a.startsWith('--') && args[args.indexOf(a) - 1] !== '--add-br')
  ?? `unix:${process.env.OVS_RUNDIR ?? '/var/run/openvswitch'}/db.sock`;
const addBr = args.includes('--add-br') ? args[args.indexOf('--add-br') + 1] : undefined;

const client = await OvsdbClient.connect(remote);
console.log(`connected to ${remote}; databases: ${(await client.listDbs()).join(', ')}`);

if (addBr) {
  try {
    // A bridge, its internal port and interface, and the root row's reference to it.
    await client.transact(
      'Open_vSwitch',
      { op: 'insert', table: 'Interface', row: { name: addBr, type: 'internal' }, 'uuid-name': 'iface' },
      { op: 'insert', table: 'Port', row: { name: addBr, interfaces: ovsdb.namedUuid('iface') }, 'uuid-name': 'port' },
      { op: 'insert', table: 'Bridge', row: { name: addBr, ports: ovsdb.namedUuid('port') }, 'uuid-name': 'br' },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ovsdb.set([ovsdb.namedUuid('br')])]] },
      { op: 'comment', comment: `ovsdb-client-monitor: add-br ${addBr}` },
    );
  } catch (e) {
    // Errors come back as RFC 7047 error objects, worded as ovsdb-server words them.
    if (e instanceof TransactionError) console.error(`add-br ${addBr}: ${e.message}`);
    else throw e;
  }
}

const monitor = await client.monitor('Open_vSwitch', {
  Bridge: ['name', 'ports'],
  Port: ['name', 'interfaces', 'tag'],
  Interface: ['name', 'type', 'ofport'],
});

function show(m: Monitor): void {
  const ports = m.rows('Port');
  const ifaces = m.rows('Interface');
  console.log(`--- ${new Date().toISOString()}`);
  for (const br of [...m.rows('Bridge').values()].sort((a, b) => String(a.name).localeCompare(String(b.name)))) {
    console.log(`Bridge ${br.name}`);
    for (const pu of br.ports as string[]) {
      const port = ports.get(pu);
      if (!port) continue;
      console.log(`    Port ${port.name}${port.tag !== null ? ` (tag ${port.tag})` : ''}`);
      for (const iu of port.interfaces as string[]) {
        const iface = ifaces.get(iu);
        if (iface) console.log(`        Interface ${iface.name} type=${iface.type || 'system'} ofport=${iface.ofport ?? '-'}`);
      }
    }
  }
}

show(monitor);
monitor.on('change', (changes) => {
  for (const c of changes) console.log(`${c.table} ${c.uuid.slice(0, 8)} ${!c.old ? 'inserted' : !c.new ? 'deleted' : 'modified'}`);
  show(monitor);
});
client.on('close', () => {
  console.log('connection closed');
  process.exit(0);
});
process.once('SIGINT', () => client.close());
