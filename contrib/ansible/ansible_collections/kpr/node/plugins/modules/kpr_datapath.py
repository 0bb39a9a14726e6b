#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: kpr_datapath
short_description: kpr's datapath on a node's devices, and its switches (xdp-attach, lb-mode)
description:
  - Attaches kpr's node datapath to devices with C(xdp-attach), in an XDP mode, or detaches it,
    and sets the switches of C(lb-mode). Each tool runs with C(-o json) and says whether
    anything changed; a second run of the same task reports nothing changed.
  - Check mode runs the tools with C(--dry-run).
  - The tools are found on the node's PATH.
version_added: "0.1.0"
author: kpr
options:
  devices:
    description: The devices to attach to (or, with C(state=absent), detach from).
    type: list
    elements: str
    default: []
  state:
    description: Whether the datapath is attached to C(devices).
    type: str
    choices: [present, absent]
    default: present
  xdp_mode:
    description: The XDP mode; best-effort tries native and falls back to generic.
    type: str
    choices: [native, generic, best-effort]
    default: best-effort
  external_clusterip:
    description: ClusterIP frontends reachable from outside the node (C(lb-mode --external-clusterip)).
    type: bool
  icmp_echo:
    description: Answer pings to service addresses (C(lb-mode --icmp-echo)).
    type: bool
  algorithm:
    description: Backend selection of the services that name none.
    type: str
    choices: [random, maglev]
  maglev_table_size:
    description: The Maglev table size, one of the primes of C(lb-mode --help).
    type: int
  maglev_seed:
    description: The Maglev seed, base64 of 12 bytes (C(maglev-gen --new-seed)).
    type: str
  nat_ports:
    description: The source ports SNAT allocates from, C(MIN-MAX).
    type: str
  netns:
    description: The network namespace of the devices (C(-N)); the module's own when not given.
    type: str
  pin_root:
    description: The pinned state (C(--pin-root)); the tools' default when not given.
    type: path
notes:
  - Every error is the tool's own message, in C(msg).
'''

EXAMPLES = r'''
- name: Native XDP on both uplinks, Maglev, ClusterIPs from outside
  kpr.node.kpr_datapath:
    devices: [eth0, eth1]
    xdp_mode: native
    algorithm: maglev
    external_clusterip: true
'''

RETURN = r'''
changed:
  description: Whether a device or a switch changed (or would, in check mode).
  type: bool
  returned: always
devices:
  description: xdp-attach's entries, one per device.
  type: list
  elements: dict
  returned: when devices are given
config:
  description: lb-mode's document after the change.
  type: dict
  returned: when a switch is given
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kpr.node.plugins.module_utils.kpr import common_args, run_tool

SWITCHES = (
    ('external_clusterip', '--external-clusterip'),
    ('icmp_echo', '--icmp-echo'),
    ('algorithm', '--algorithm'),
    ('maglev_table_size', '--maglev-table-size'),
    ('maglev_seed', '--maglev-seed'),
    ('nat_ports', '--nat-ports'),
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            devices=dict(type='list', elements='str', default=[]),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            xdp_mode=dict(type='str', choices=['native', 'generic', 'best-effort'],
                          default='best-effort'),
            external_clusterip=dict(type='bool'),
            icmp_echo=dict(type='bool'),
            algorithm=dict(type='str', choices=['random', 'maglev']),
            maglev_table_size=dict(type='int'),
            maglev_seed=dict(type='str', no_log=False),
            nat_ports=dict(type='str'),
            netns=dict(type='str'),
            pin_root=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    base = common_args(p['pin_root'])
    if p['netns']:
        base += ['--netns', p['netns']]
    if module.check_mode:
        base.append('--dry-run')
    result = dict(changed=False)
    if p['devices']:
        if p['state'] == 'present':
            args = base + ['--mode', p['xdp_mode']] + p['devices']
        else:
            args = base + ['--detach'] + p['devices']
        rc, doc = run_tool(module, 'xdp-attach', args)
        result['changed'] |= bool(doc.get('changed'))
        result['devices'] = doc.get('devices', [])
    args = []
    for key, opt in SWITCHES:
        v = p[key]
        if v is None:
            continue
        args += [opt, ('on' if v else 'off') if isinstance(v, bool) else str(v)]
    if args:
        rc, doc = run_tool(module, 'lb-mode', base + args)
        result['changed'] |= bool(doc.get('changed'))
        result['config'] = doc
    module.exit_json(**result)


if __name__ == '__main__':
    main()
