# examples/osken-learning-switch.py — an os-ken (Ryu) OpenFlow 1.3 learning switch, the
# controller of `xdpswitch demo` and of the Mininet tests. It works like os-ken's
# simple_switch_13: a table-miss flow sends unknown traffic to the controller; each
# packet-in teaches it which port a source MAC lives on; once the destination is known
# it installs a flow (in_port, eth_src, eth_dst → output) so the rest of the
# conversation stays in the switch's datapath, and answers the packet with a
# packet-out (flooding while the destination is unknown).
#
# Run it, then point a bridge at it:
#   osken-manager --ofp-listen-host 127.0.0.1 --ofp-tcp-listen-port 6653 examples/osken-learning-switch.py
#   ovs-vsctl set-controller br0 tcp:127.0.0.1:6653
#
# Every event is one `xsw-learn: ...` line on stdout (flushed), which the demo relays
# and the tests read:
#   connected dpid=...            a switch finished the handshake
#   table-miss installed dpid=...  priority 0: everything unknown goes to the controller
#   learned MAC on dpid/port      a source address seen for the first time (or moved)
#   flow installed ...            a flow the controller put in the switch
import sys

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib.packet import ether_types, ethernet, packet
from os_ken.ofproto import ofproto_v1_3

# Flows the controller installs expire after this long without traffic, so a host that
# moves is relearned; the table-miss flow never expires.
IDLE_TIMEOUT = 60


def say(text):
    sys.stdout.write('xsw-learn: %s\n' % text)
    sys.stdout.flush()


class LearningSwitch(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # dpid → {mac → port}
        self.mac_to_port = {}

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def switch_features(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        say('connected dpid=%016x n_tables=%d' % (dp.id, ev.msg.n_tables))
        self.mac_to_port.setdefault(dp.id, {})
        # Table-miss: whole packets to the controller (no buffering).
        actions = [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)]
        self.add_flow(dp, 0, parser.OFPMatch(), actions)
        say('table-miss installed dpid=%016x: priority=0 actions=CONTROLLER' % dp.id)

    def add_flow(self, dp, priority, match, actions, idle_timeout=0):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]
        dp.send_msg(parser.OFPFlowMod(datapath=dp, priority=priority, match=match, instructions=inst, idle_timeout=idle_timeout))

    @set_ev_cls(ofp_event.EventOFPErrorMsg, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def error(self, ev):
        say('error from dpid=%016x type=%d code=%d' % (ev.msg.datapath.id, ev.msg.type, ev.msg.code))

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        in_port = msg.match['in_port']
        eth = packet.Packet(msg.data).get_protocol(ethernet.ethernet)
        if eth is None or eth.ethertype == ether_types.ETH_TYPE_LLDP:
            return
        table = self.mac_to_port.setdefault(dp.id, {})
        if table.get(eth.src) != in_port:
            table[eth.src] = in_port
            say('learned %s on dpid=%016x port %d' % (eth.src, dp.id, in_port))
        out_port = table.get(eth.dst, ofp.OFPP_FLOOD)
        actions = [parser.OFPActionOutput(out_port)]
        if out_port != ofp.OFPP_FLOOD:
            match = parser.OFPMatch(in_port=in_port, eth_src=eth.src, eth_dst=eth.dst)
            self.add_flow(dp, 1, match, actions, IDLE_TIMEOUT)
            say('flow installed dpid=%016x: in_port=%d,dl_src=%s,dl_dst=%s actions=output:%d' % (dp.id, in_port, eth.src, eth.dst, out_port))
        data = msg.data if msg.buffer_id == ofp.OFP_NO_BUFFER else None
        dp.send_msg(parser.OFPPacketOut(datapath=dp, buffer_id=msg.buffer_id, in_port=in_port, actions=actions, data=data))
