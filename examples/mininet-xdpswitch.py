#!/usr/bin/python3
# examples/mininet-xdpswitch.py — Mininet on xdpswitch.
#
# Mininet's own OVSSwitch works on xdpswitch unchanged: it drives the switch only with
# `ovs-vsctl` (add-br, add-port with ofport_request, Controller rows, fail_mode,
# protocols, other_config:datapath-id) and reads Controller is_connected; Mininet 2.3.0
# never loads the openvswitch kernel module for it (that `moduleDeps` call is commented
# out in mininet/node.py), and the stock clients find xdpswitch through OVS_RUNDIR. So:
#
#   export OVS_RUNDIR=/run/xdpswitch OVS_DBDIR=/run/xdpswitch
#   xdpswitch start --detach
#   osken-manager --ofp-tcp-listen-port 6653 examples/osken-learning-switch.py &
#   mn --switch ovs,protocols=OpenFlow13 --controller remote,ip=127.0.0.1,port=6653 \
#      --topo linear,3 --test pingall
#   mn --switch ovs,failMode=standalone --controller none --topo tree,2 --test pingall
#
# (Keep OVS_RUNDIR in the environment of `mn`: Mininet's switch shells inherit it. With
# sudo, use `sudo -E` or `sudo env OVS_RUNDIR=... mn ...`. Without --nolistenport, mn
# also gives each switch a passive ptcp:6654+N controller, which xdpswitch serves too.)
# Prefixed node names: `mn --custom examples/mininet-xdpswitch.py --topo xlinear,3,prefix=xm1`
# (or xtree,DEPTH,FANOUT,prefix=...).
#
# This script is the same thing through Mininet's Python API, for tests and for shared
# machines: every node name starts with --prefix (the switches' ports, which live in the
# root namespace, are PREFIXs1-eth1 ...), it reports one JSON line of results, and it
# always stops its own network with net.stop(). It never calls Mininet's cleanup
# (`mn -c`, which `mn` also runs after any exception): that kills processes by name
# machine-wide (ping, controllers, anything matching "mininet:"), deletes every
# *-ethN link in the root namespace, every bridge in the database and /tmp/*.log.
#
#   OVS_RUNDIR=... python3 examples/mininet-xdpswitch.py --topo linear,3 \
#       --controller tcp:127.0.0.1:6653 --iperf 2
#   OVS_RUNDIR=... python3 examples/mininet-xdpswitch.py --topo tree,2,2 --standalone
#
# Add --datapath user to run real OVS's userspace datapath (datapath_type=netdev), as
# the tests do to compare.
import argparse
import json
import re
import sys
import time
from functools import partial

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import OVSSwitch, RemoteController
from mininet.topo import LinearTopo, Topo
from mininet.topolib import TreeTopo


class Prefixed(Topo):
    """A copy of `inner` with every node renamed PREFIX+name, switches numbered 1..n as datapath IDs."""

    def build(self, inner, prefix):
        n = 0
        for node in inner.nodes():
            if inner.isSwitch(node):
                n += 1
                self.addSwitch(prefix + node, dpid='%016x' % int(re.sub(r'\D', '', node) or n))
            else:
                self.addHost(prefix + node)
        for a, b, info in inner.links(withInfo=True):
            self.addLink(prefix + a, prefix + b, port1=info.get('port1'), port2=info.get('port2'))


# For `mn --custom examples/mininet-xdpswitch.py --topo xlinear,3,prefix=xm1`: linear and
# tree with prefixed names, so two runs (or other users of s1-eth1 ...) never collide.
topos = {
    'xlinear': lambda k=2, n=1, prefix='xm': Prefixed(LinearTopo(k=k, n=n), prefix=prefix),
    'xtree': lambda depth=2, fanout=2, prefix='xm': Prefixed(TreeTopo(depth=depth, fanout=fanout), prefix=prefix),
}


def make_topo(spec):
    kind, *nums = spec.split(',')
    nums = [int(x) for x in nums]
    if kind == 'linear':
        return LinearTopo(k=nums[0] if nums else 2, n=nums[1] if len(nums) > 1 else 1)
    if kind == 'tree':
        return TreeTopo(depth=nums[0] if nums else 2, fanout=nums[1] if len(nums) > 1 else 2)
    raise SystemExit('unknown topology %r (linear,K[,N] or tree,DEPTH[,FANOUT])' % spec)


def iperf3(client, server, seconds):
    """A TCP stream from client to server with iperf3 (the hosts keep their default offloads); Gbit/s or an error."""
    srv = server.popen(['iperf3', '-s', '-1', '-B', server.IP()])
    try:
        time.sleep(0.5)
        out = client.cmd('timeout %d iperf3 -c %s -t %d -J' % (seconds + 4, server.IP(), seconds))
        try:
            j = json.loads(out[out.index('{'):])
        except ValueError:
            return {'error': 'iperf3 gave no result within %d s' % (seconds + 4)}
        bps = j.get('end', {}).get('sum_received', {}).get('bits_per_second', 0)
        return {'gbps': bps / 1e9} if bps else {'error': j.get('error', 'no data received')}
    finally:
        if srv.poll() is None:
            srv.terminate()
            srv.wait()


def main():
    ap = argparse.ArgumentParser(description='Mininet topology on the switch OVS_RUNDIR points at')
    ap.add_argument('--topo', default='linear,2', help='linear,K[,N] or tree,DEPTH[,FANOUT]')
    ap.add_argument('--prefix', default='xm', help='prefix of every node name (keep names <= 15 chars with -ethN)')
    ap.add_argument('--controller', help='tcp:IP:PORT of a remote OpenFlow controller (fail_mode secure)')
    ap.add_argument('--standalone', action='store_true', help='no controller, fail_mode standalone (NORMAL)')
    ap.add_argument('--datapath', default='kernel', choices=['kernel', 'user'], help="'user' sets datapath_type=netdev (real OVS without the kernel module)")
    ap.add_argument('--iperf', type=int, default=0, metavar='SECONDS', help='also stream TCP from the first host to the last')
    ap.add_argument('--verbose', action='store_true')
    args = ap.parse_args()
    if bool(args.controller) == args.standalone:
        raise SystemExit('give exactly one of --controller tcp:IP:PORT and --standalone')
    setLogLevel('info' if args.verbose else 'warning')

    topo = Prefixed(make_topo(args.topo), args.prefix)
    switch = partial(OVSSwitch, failMode='standalone' if args.standalone else 'secure', protocols='OpenFlow13', datapath=args.datapath)
    net = Mininet(topo=topo, switch=switch, controller=None, autoSetMacs=True, waitConnected=False)
    result = {'topo': args.topo, 'switches': len(topo.switches()), 'hosts': len(topo.hosts())}
    try:
        if args.controller:
            _, ip, port = args.controller.split(':')
            net.addController(RemoteController('%sc0' % args.prefix, ip=ip, port=int(port)))
        t0 = time.time()
        net.start()
        if args.controller:
            result['connected'] = bool(net.waitConnected(timeout=15))
        result['start_s'] = round(time.time() - t0, 3)
        hosts = net.hosts
        pairs = [(a, b) for a in hosts for b in hosts if a is not b]
        # pingall, as Mininet's: one ping per ordered pair (one retry for the first packets a controller sees).
        lost = []
        for a, b in pairs:
            if ' 0% packet loss' not in a.cmd('ping -c1 -W2 %s' % b.IP()) and ' 0% packet loss' not in a.cmd('ping -c1 -W2 %s' % b.IP()):
                lost.append('%s->%s' % (a.name, b.name))
        result['pingall'] = {'sent': len(pairs), 'received': len(pairs) - len(lost), 'lost': lost}
        # Mininet's own pingAll too, with its usual report (percentage dropped).
        result['mn_pingall_dropped'] = net.pingAll(timeout=2)
        if args.iperf:
            result['iperf'] = iperf3(hosts[0], hosts[-1], args.iperf)
        for sw in net.switches:
            result.setdefault('flows', {})[sw.name] = len([line for line in sw.dpctl('dump-flows', '-O', 'OpenFlow13').split('\n') if 'cookie=' in line])
    finally:
        net.stop()
    print('xsw-mininet: ' + json.dumps(result), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
