# An os-ken app for xdpswitch's vswitchd tests: it reports, one line each on stdout,
# every switch that connects (with its datapath id and ports) and every PORT_STATUS it
# receives, so a test can watch link changes reach a controller set with
# `ovs-vsctl set-controller`.  Run: osken-manager --ofp-tcp-listen-port P os-ken-port-watch.py
import sys

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.ofproto import ofproto_v1_3


def say(text):
    print('xsw-watch: ' + text, flush=True)
    sys.stdout.flush()


class PortWatch(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def features(self, ev):
        dp = ev.msg.datapath
        say('connected dpid=%016x' % ev.msg.datapath_id)
        dp.send_msg(dp.ofproto_parser.OFPPortDescStatsRequest(dp, 0))

    @set_ev_cls(ofp_event.EventOFPPortDescStatsReply, MAIN_DISPATCHER)
    def port_desc(self, ev):
        for p in ev.msg.body:
            say('port %d %s state=%d' % (p.port_no, p.name.decode(), p.state))

    @set_ev_cls(ofp_event.EventOFPPortStatus, MAIN_DISPATCHER)
    def port_status(self, ev):
        ofp = ev.msg.datapath.ofproto
        reason = {ofp.OFPPR_ADD: 'ADD', ofp.OFPPR_DELETE: 'DELETE', ofp.OFPPR_MODIFY: 'MODIFY'}.get(ev.msg.reason, str(ev.msg.reason))
        d = ev.msg.desc
        link = 'down' if d.state & ofp.OFPPS_LINK_DOWN else 'up'
        say('port-status %s %d %s link=%s' % (reason, d.port_no, d.name.decode(), link))
