#!/bin/bash
# test/kdp/guest/daemon.sh — issue 8's guest scenario through the daemon, run inside the
# run-in-vm guest (Debian 6.1 kernel with openvswitch.ko) by test/kdp/daemon.test.ts:
# `xdpswitch start`, two namespaces on a bridge, the classic stateful firewall added with
# the real ovs-ofctl, traffic both ways. Prints one `KDPD <what> <value>` line per
# observation (the test asserts on them); everything else is context for a failure.
set -u
cd "$(dirname "$0")/../../.."
R=/tmp/kdpd-run
mkdir -p "$R"
export OVS_RUNDIR=$R OVS_DBDIR=$R OVS_LOGDIR=$R
obs() { echo "KDPD $1 $2"; }
ms() { echo $(($(date +%s%N) / 1000000)); }
T0=$(ms)
# Received count of a ping command's output.
rcv() { sed -n 's/.* \([0-9]*\) received.*/\1/p' | head -1; }

ip netns add kdpd-in
ip netns add kdpd-out
ip link add kdpd-a type veth peer name kdpd-ai netns kdpd-in
ip link add kdpd-b type veth peer name kdpd-bo netns kdpd-out
ip -n kdpd-in addr add 10.9.0.1/24 dev kdpd-ai
ip -n kdpd-out addr add 10.9.0.2/24 dev kdpd-bo
for l in kdpd-a kdpd-b; do ip link set $l up; done
ip -n kdpd-in link set kdpd-ai up
ip -n kdpd-in link set lo up
ip -n kdpd-out link set kdpd-bo up
ip -n kdpd-out link set lo up

node bin/xdpswitch.js start --log-file="$R/xdpswitch.log" --detach
obs started "$(($(ms) - T0))"
ovs-vsctl --timeout=30 add-br br0 -- set-fail-mode br0 secure \
  -- add-port br0 kdpd-a -- set Interface kdpd-a ofport_request=1 \
  -- add-port br0 kdpd-b -- set Interface kdpd-b ofport_request=2
F=/tmp/kdpd-flows
cat >$F <<'EOF'
table=0,priority=20,arp,in_port=1,actions=output:2
table=0,priority=20,arp,in_port=2,actions=output:1
table=0,priority=10,ip,ct_state=-trk,actions=ct(table=1,zone=5)
table=1,priority=10,ip,in_port=1,ct_state=+trk+new,actions=ct(commit,zone=5),output:2
table=1,priority=10,ip,in_port=1,ct_state=+trk+est,actions=output:2
table=1,priority=10,ip,in_port=2,ct_state=+trk+est,actions=output:1
table=1,priority=5,ip,in_port=2,ct_state=+trk+new,actions=drop
EOF
ovs-ofctl -O OpenFlow13 add-flows br0 $F
obs flows-added "$(ovs-ofctl -O OpenFlow13 dump-flows br0 | grep -c table=)"
obs dps "$(ovs-dpctl dump-dps | tr '\n' ' ')"
# Tier 2's set-up runs beside the bridge's; wait for both ports in the kernel datapath.
for _ in $(seq 50); do
  P=$(ovs-dpctl show system@xs-br0 2>/dev/null)
  echo "$P" | grep -q kdpd-a && echo "$P" | grep -q kdpd-b && break
  sleep 0.2
done
obs dp-ports "$(ovs-dpctl show system@xs-br0 | grep -o 'port [0-9]*: [a-z0-9-]*' | tr '\n' ',')"

# The first packet of a connection through tier 2 (XDP pass, upcall, ct, recirc, upcall).
obs first-ping "$(ip netns exec kdpd-in ping -n -c 1 -W 5 10.9.0.2 | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p')"
obs in-out-ping "$(ip netns exec kdpd-in ping -n -c 3 -i 0.3 -W 2 10.9.0.2 | rcv)"
obs out-in-ping "$(ip netns exec kdpd-out ping -n -c 2 -i 0.3 -W 1 10.9.0.1 | rcv)"

# TCP: the outside cannot connect in; the inside can connect out.
ip netns exec kdpd-in socat TCP-LISTEN:5001,reuseaddr SYSTEM:'echo in-tcp' &
ip netns exec kdpd-out socat TCP-LISTEN:5001,reuseaddr SYSTEM:'echo out-tcp' &
ip netns exec kdpd-out socat UDP-RECVFROM:5002 SYSTEM:'echo out-udp' &
sleep 0.5
obs out-in-tcp "$(timeout 4 ip netns exec kdpd-out socat -t 3 -T 3 - TCP:10.9.0.1:5001,connect-timeout=3 </dev/null 2>/dev/null)"
obs in-out-tcp "$(timeout 8 ip netns exec kdpd-in socat -t 5 -T 5 - TCP:10.9.0.2:5001,connect-timeout=5 </dev/null 2>/dev/null)"
obs in-out-udp "$(echo ping | timeout 8 ip netns exec kdpd-in socat -t 5 -T 5 - UDP:10.9.0.2:5002 2>/dev/null)"

# A packet-in from a kernel upcall reaches the controller (ovs-ofctl monitor) as any other.
timeout 10 ovs-ofctl -O OpenFlow13 monitor br0 65534 >/tmp/kdpd-mon 2>&1 &
sleep 1
ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,priority=30,udp,in_port=1,tp_dst=9999,actions=CONTROLLER:128'
echo to-controller | ip netns exec kdpd-in socat -u - UDP:10.9.0.2:9999 2>/dev/null
for _ in $(seq 25); do grep -q PACKET_IN /tmp/kdpd-mon && break; sleep 0.2; done
obs packet-in "$(grep -c 'OFPT_PACKET_IN' /tmp/kdpd-mon)"
obs packet-in-data "$(grep -c 'udp.*tp_dst=9999' /tmp/kdpd-mon)"
head -5 /tmp/kdpd-mon

# 3000-byte pings: fragments, reassembled by the kernel's ct, refragmented on output.
obs big-ping "$(ip netns exec kdpd-in ping -n -c 3 -i 0.3 -W 3 -s 3000 10.9.0.2 | rcv)"
echo "--- ovs-dpctl dump-flows"
ovs-dpctl dump-flows system@xs-br0 | tee /tmp/kdpd-dpflows
obs megaflow-ct-recirc "$(grep -c 'recirc_id(0),.*actions:ct(zone=5),recirc(' /tmp/kdpd-dpflows)"
obs megaflow-est "$(grep -c 'ct_state(.*+est.*actions:[12]$' /tmp/kdpd-dpflows)"
obs megaflow-commit "$(grep -c 'actions:ct(commit,zone=5),2' /tmp/kdpd-dpflows)"
obs megaflow-frag "$(grep -c 'frag=first' /tmp/kdpd-dpflows)"
echo "--- ovs-ofctl dump-flows"
ovs-ofctl -O OpenFlow13 dump-flows br0 | tee /tmp/kdpd-offlows
obs of-ct "$(sed -n 's/.*table=0, n_packets=\([0-9]*\), .*ct_state=-trk.*/\1/p' /tmp/kdpd-offlows)"
obs of-est-in "$(sed -n 's/.*table=1, n_packets=\([0-9]*\), .*in_port=2,ct_state=+est+trk.*/\1/p;s/.*table=1, n_packets=\([0-9]*\), .*ct_state=+est+trk,ip,in_port=2.*/\1/p' /tmp/kdpd-offlows | head -1)"
obs of-new-out-drop "$(sed -n 's/.*table=1, n_packets=\([0-9]*\), .*priority=5.*/\1/p' /tmp/kdpd-offlows)"
echo "--- dpif/show-upcalls"
ovs-appctl dpif/show-upcalls | tee /tmp/kdpd-upcalls
obs passed-conntrack "$(sed -n 's/.*passed by XDP\/TC, \([a-z_]*\): \([0-9]*\)/\1=\2/p' /tmp/kdpd-upcalls | tr '\n' ' ')"
obs ct-stages "$(sed -n 's/.*ct stages: \([0-9]*\).*/\1/p' /tmp/kdpd-upcalls)"
echo "--- conntrack"
ovs-dpctl dump-conntrack zone=5 | head

# SIGTERM: the kernel datapath goes with the bridges.
kill -TERM "$(cat $R/xdpswitch.pid)"
for _ in $(seq 50); do [ -e "$R/xdpswitch.pid" ] && kill -0 "$(cat $R/xdpswitch.pid 2>/dev/null)" 2>/dev/null || break; sleep 0.2; done
obs dps-after-stop "$(ovs-dpctl dump-dps | tr '\n' ' ')"
echo "--- xdpswitch log"
grep -E 'kdp|tier|xs-br0|ERR|WARN' "$R/xdpswitch.log" | head -40
obs log-tier2 "$(grep -c 'tier 2 on' "$R/xdpswitch.log")"
obs log-removed "$(grep -c 'kernel datapath xs-br0 removed' "$R/xdpswitch.log")"
obs total "$(($(ms) - T0))"
