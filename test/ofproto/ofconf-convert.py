#!/usr/bin/python3
# test/ofproto/ofconf-convert.py — converts the os-ken switch test tool's cases
# (/work/shared/ofconf/cases or argv[1]) into test/ofproto/fixtures/ofconf.json:
# flow/group/meter mods in proto/openflow's value shapes, packets serialised to hex
# by os-ken's own packet library. Run once with /usr/bin/python3; the output is committed.
import json
import os
import random
import sys

import os_ken.tests.switch.tester as tester
from os_ken.ofproto import ofproto_parser, ofproto_protocol
from os_ken.ofproto import ofproto_v1_3 as ofp

CASES = sys.argv[1] if len(sys.argv) > 1 else '/work/shared/ofconf/cases'
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'ofconf.json')
WIDE = {'METADATA', 'TUNNEL_ID'}  # 8-byte fields: written as decimal strings, read as bigint
PORTS = {'target_recv_port': 1, 'target_send_port_1': 2, 'target_send_port_2': 3}
RANDOM_VARIANTS = 600

dp = ofproto_protocol.ProtocolDesc(ofp.OFP_VERSION)
random.seed(1)


def value(field, v):
    return str(v) if field in WIDE else v


def oxm(name, v):
    field = name.upper()
    if isinstance(v, tuple):
        return {'field': field, 'value': value(field, v[0]), 'mask': value(field, v[1])}
    return {'field': field, 'value': value(field, v)}


def match(m):
    return [oxm(k, v) for k, v in m._fields2]


def action(a):
    n = type(a).__name__
    simple = {
        'OFPActionCopyTtlOut': 'COPY_TTL_OUT', 'OFPActionCopyTtlIn': 'COPY_TTL_IN',
        'OFPActionDecMplsTtl': 'DEC_MPLS_TTL', 'OFPActionPopVlan': 'POP_VLAN',
        'OFPActionDecNwTtl': 'DEC_NW_TTL', 'OFPActionPopPbb': 'POP_PBB',
    }
    if n in simple:
        return {'type': simple[n]}
    if n == 'OFPActionOutput':
        return {'type': 'OUTPUT', 'port': a.port, 'max_len': a.max_len}
    if n == 'OFPActionSetMplsTtl':
        return {'type': 'SET_MPLS_TTL', 'mpls_ttl': a.mpls_ttl}
    if n == 'OFPActionSetNwTtl':
        return {'type': 'SET_NW_TTL', 'nw_ttl': a.nw_ttl}
    if n in ('OFPActionPushVlan', 'OFPActionPushMpls', 'OFPActionPopMpls', 'OFPActionPushPbb'):
        t = {'OFPActionPushVlan': 'PUSH_VLAN', 'OFPActionPushMpls': 'PUSH_MPLS', 'OFPActionPopMpls': 'POP_MPLS', 'OFPActionPushPbb': 'PUSH_PBB'}[n]
        return {'type': t, 'ethertype': a.ethertype}
    if n == 'OFPActionSetQueue':
        return {'type': 'SET_QUEUE', 'queue_id': a.queue_id}
    if n == 'OFPActionGroup':
        return {'type': 'GROUP', 'group_id': a.group_id}
    if n == 'OFPActionSetField':
        return {'type': 'SET_FIELD', 'field': oxm(a.key, a.value)}
    raise ValueError('action %s' % n)


def instruction(i):
    n = type(i).__name__
    if n == 'OFPInstructionGotoTable':
        return {'type': 'GOTO_TABLE', 'table_id': i.table_id}
    if n == 'OFPInstructionWriteMetadata':
        return {'type': 'WRITE_METADATA', 'metadata': str(i.metadata), 'metadata_mask': str(i.metadata_mask)}
    if n == 'OFPInstructionMeter':
        return {'type': 'METER', 'meter_id': i.meter_id}
    if n == 'OFPInstructionActions':
        t = {ofp.OFPIT_WRITE_ACTIONS: 'WRITE_ACTIONS', ofp.OFPIT_APPLY_ACTIONS: 'APPLY_ACTIONS', ofp.OFPIT_CLEAR_ACTIONS: 'CLEAR_ACTIONS'}[i.type]
        return {'type': t} if t == 'CLEAR_ACTIONS' else {'type': t, 'actions': [action(a) for a in i.actions]}
    raise ValueError('instruction %s' % n)


def band(b):
    n = type(b).__name__
    if n == 'OFPMeterBandDrop':
        return {'type': 'DROP', 'rate': b.rate, 'burst_size': b.burst_size}
    if n == 'OFPMeterBandDscpRemark':
        return {'type': 'DSCP_REMARK', 'rate': b.rate, 'burst_size': b.burst_size, 'prec_level': b.prec_level}
    raise ValueError('band %s' % n)


def mod(msg):
    n = type(msg).__name__
    if n == 'OFPFlowMod':
        return {'kind': 'flow', 'mod': {
            'cookie': str(msg.cookie), 'cookie_mask': str(msg.cookie_mask), 'table_id': msg.table_id,
            'command': msg.command, 'idle_timeout': msg.idle_timeout, 'hard_timeout': msg.hard_timeout,
            'priority': msg.priority, 'buffer_id': msg.buffer_id, 'out_port': msg.out_port,
            'out_group': msg.out_group, 'flags': msg.flags, 'match': match(msg.match),
            'instructions': [instruction(i) for i in msg.instructions]}}
    if n == 'OFPGroupMod':
        return {'kind': 'group', 'mod': {
            'command': msg.command, 'type': msg.type, 'group_id': msg.group_id,
            'buckets': [{'weight': b.weight, 'watch_port': b.watch_port, 'watch_group': b.watch_group,
                         'actions': [action(a) for a in b.actions]} for b in msg.buckets]}}
    if n == 'OFPMeterMod':
        return {'kind': 'meter', 'mod': {'command': msg.command, 'flags': msg.flags, 'meter_id': msg.meter_id,
                                         'bands': [band(b) for b in msg.bands]}}
    raise ValueError('message %s' % n)


def packet(lines):
    p = eval('/'.join(lines), tester.__dict__)
    p.serialize()
    return bytes(p.data).hex()


def ports(v):
    # The tool's symbolic port names, as its _normalize_test_json replaces them.
    if isinstance(v, dict):
        for k, x in v.items():
            if k == 'OFPActionOutput' and x.get('port') in PORTS:
                x['port'] = PORTS[x['port']]
            if k == 'OXMTlv' and x.get('field') == 'in_port' and x.get('value') in PORTS:
                x['value'] = PORTS[x['value']]
            ports(x)
    elif isinstance(v, list):
        for x in v:
            ports(x)


def convert(path):
    with open(path) as f:
        doc = json.load(f)
    out = {'file': os.path.relpath(path, CASES), 'tests': []}
    for t in doc:
        if isinstance(t, str):
            out['name'] = t
            continue
        ports(t)
        prereq = [mod(ofproto_parser.ofp_msg_from_jsondict(dp, m)) for m in t['prerequisite']]
        subs = []
        for s in t['tests']:
            sub = {}
            ing = s['ingress']
            if isinstance(ing, list):
                sub['ingress'] = packet(ing)
            else:
                pk = ing['packets']
                lines = pk['data']
                sub['packets'] = {'pktps': pk.get('pktps', 1000), 'duration_time': pk.get('duration_time', 60)}
                if any('randint' in l for l in lines):
                    frames = [packet(lines) for _ in range(RANDOM_VARIANTS)]
                    # Random headers, common payload: stored once.
                    n = 0
                    while n < min(len(x) for x in frames) and all(x[-1 - n] == frames[0][-1 - n] for x in frames):
                        n += 1
                    n -= n % 2
                    sub['packets']['variants'] = [x[:len(x) - n] for x in frames]
                    sub['packets']['tail'] = frames[0][len(frames[0]) - n:]
                else:
                    sub['packets']['variants'] = [packet(lines)]
                    sub['packets']['tail'] = ''
            if 'egress' in s:
                if isinstance(s['egress'], list):
                    sub['egress'] = packet(s['egress'])
                else:
                    sub['throughput'] = [dict({'match': match(dp.ofproto_parser.OFPMatch.from_jsondict(x['OFPMatch']))},
                                              **({'kbps': x['kbps']} if 'kbps' in x else {'pktps': x['pktps']}))
                                         for x in s['egress']['throughput']]
            elif 'PACKET_IN' in s:
                sub['packet_in'] = packet(s['PACKET_IN'])
            elif 'table-miss' in s:
                sub['table_miss'] = s['table-miss']
            subs.append(sub)
        out['tests'].append({'description': t.get('description', ''), 'prerequisite': prereq, 'tests': subs})
    return out


files = sorted(os.path.join(d, f) for d, _, fs in os.walk(CASES) for f in fs if f.endswith('.json'))
result = [convert(p) for p in files]
with open(OUT, 'w') as f:
    json.dump(result, f, separators=(',', ':'))
    f.write('\n')
print('%d files, %d tests, %d sub-tests -> %s' % (len(result), sum(len(r['tests']) for r in result),
      sum(len(t['tests']) for r in result for t in r['tests']), OUT))
