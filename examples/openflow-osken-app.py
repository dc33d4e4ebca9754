# examples/openflow-osken-app.py — a minimal os-ken (Ryu) OpenFlow 1.3 controller for
# xdpswitch: claims a role, installs a group and flows in two tables, learns MACs from
# packet-ins and answers with packet-outs. Tests run it as a real third-party controller:
#   XSW_ROLE=master osken-manager --ofp-tcp-listen-port 6653 examples/openflow-osken-app.py
# then point a bridge at it (ovs-vsctl set-controller br0 tcp:127.0.0.1:6653).
# Every event is logged as one `xsw-app: ...` line on stderr, which the tests read.
import os

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib.packet import ethernet, packet
from os_ken.ofproto import ofproto_v1_3

FLOOD_GROUP = 1


class XdpswitchExample(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mac_to_port = {}
        self.role = os.environ.get("XSW_ROLE", "master")
        self.generation = int(os.environ.get("XSW_GENERATION", "1"))

    def say(self, what):
        self.logger.info("xsw-app: %s", what)

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def on_features(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        self.say("connected dpid=%016x n_tables=%d" % (dp.id, ev.msg.n_tables))
        role = {"master": ofp.OFPCR_ROLE_MASTER, "slave": ofp.OFPCR_ROLE_SLAVE, "equal": ofp.OFPCR_ROLE_EQUAL}[self.role]
        dp.send_msg(parser.OFPRoleRequest(dp, role, self.generation))
        # Group 1 (ALL): a copy to ports 1 and 2.
        buckets = [parser.OFPBucket(actions=[parser.OFPActionOutput(p)]) for p in (1, 2)]
        dp.send_msg(parser.OFPGroupMod(dp, ofp.OFPGC_ADD, ofp.OFPGT_ALL, FLOOD_GROUP, buckets))
        # Table 0 sends everything on to table 1; table 1's miss goes to the controller.
        self.add_flow(dp, 0, 0, parser.OFPMatch(), [parser.OFPInstructionGotoTable(1)])
        out = parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)
        self.add_flow(dp, 1, 0, parser.OFPMatch(), [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, [out])])
        dp.send_msg(parser.OFPBarrierRequest(dp))

    def add_flow(self, dp, table, priority, match, inst):
        parser = dp.ofproto_parser
        dp.send_msg(parser.OFPFlowMod(datapath=dp, table_id=table, priority=priority, match=match, instructions=inst))

    @set_ev_cls(ofp_event.EventOFPRoleReply, MAIN_DISPATCHER)
    def on_role(self, ev):
        names = {0: "nochange", 1: "equal", 2: "master", 3: "slave"}
        self.say("role %s generation_id=%d" % (names.get(ev.msg.role, ev.msg.role), ev.msg.generation_id))

    @set_ev_cls(ofp_event.EventOFPBarrierReply, MAIN_DISPATCHER)
    def on_barrier(self, ev):
        self.say("barrier reply")

    @set_ev_cls(ofp_event.EventOFPErrorMsg, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def on_error(self, ev):
        self.say("error type=%d code=%d" % (ev.msg.type, ev.msg.code))

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def on_packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        in_port = msg.match["in_port"]
        eth = packet.Packet(msg.data).get_protocol(ethernet.ethernet)
        self.mac_to_port[eth.src] = in_port
        out_port = self.mac_to_port.get(eth.dst)
        self.say("packet-in in_port=%d %s -> %s" % (in_port, eth.src, eth.dst))
        if out_port is not None:
            match = parser.OFPMatch(in_port=in_port, eth_dst=eth.dst)
            actions = [parser.OFPActionOutput(out_port)]
            self.add_flow(dp, 1, 1, match, [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)])
        else:
            actions = [parser.OFPActionGroup(FLOOD_GROUP)]
        dp.send_msg(parser.OFPPacketOut(datapath=dp, buffer_id=ofp.OFP_NO_BUFFER, in_port=in_port, actions=actions, data=msg.data))
