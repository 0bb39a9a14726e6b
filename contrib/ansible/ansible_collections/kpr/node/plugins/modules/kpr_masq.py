#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: kpr_masq
short_description: Masquerade of a kpr node's pods (masq-ctl)
description:
  - Sets masquerade of the pods' traffic leaving the node's attached devices with
    C(masq-ctl -o json), that is the switches per family, the pod CIDRs, the non-masquerade
    CIDRs (or ip-masq-agent's configuration), the masquerade addresses and the devices.
  - Only the options given are passed; a list given replaces the node's list, as masq-ctl
    does. C(changed) is masq-ctl's own, so a second run of the same task reports nothing
    changed.
  - Check mode runs C(masq-ctl --dry-run), which changes nothing. With C(--diff), the
    settings are shown before and after (in check mode, the after side is what masq-ctl
    says it would set).
  - The tools are found on the node's PATH.
version_added: "0.1.0"
author: kpr
options:
  ipv4:
    description: Masquerade IPv4 (C(--ipv4)); off on a new node.
    type: bool
  ipv6:
    description: Masquerade IPv6 (C(--ipv6)), independently of IPv4.
    type: bool
  pod_cidrs:
    description:
      - The pod CIDRs, IPv4 or IPv6 (C(--pod-cidr)), whose traffic is masqueraded; they replace
        the node's list. A CIDR with bits set past its prefix fails.
    type: list
    elements: str
  non_masq_cidrs:
    description:
      - Destinations that keep the pod's address (C(--non-masq-cidr)); they replace the
        node's list. Mutually exclusive with C(ip_masq_agent).
    type: list
    elements: str
  ip_masq_agent:
    description:
      - The non-masquerade CIDRs from ip-masq-agent's configuration file on the node (YAML or
        JSON), or C(defaults) for ip-masq-agent's defaults (C(--ip-masq-agent)).
    type: str
  masq_ip:
    description:
      - Addresses of the node to leave from rather than the device's, at most one per family
        (C(--masq-ip)); C(0.0.0.0) or C(::) goes back to the device's address.
    type: list
    elements: str
  devices:
    description:
      - The attached devices whose outgoing traffic is masqueraded (C(--dev)), or C([all]),
        every attached device. The list replaces the node's.
    type: list
    elements: str
  netns:
    description:
      - The network namespace of the devices and the node's addresses (C(-N)); the module's
        own when not given.
    type: str
  pin_root:
    description: The pinned state (C(--pin-root)); the tools' default when not given.
    type: path
notes:
  - Every error is masq-ctl's own message, in C(msg).
  - masq-ctl cannot empty a list it is given, so an empty C(pod_cidrs), C(non_masq_cidrs),
    C(masq_ip) or C(devices) fails; C(ip_masq_agent) with a file whose list is empty empties
    the non-masquerade CIDRs.
'''

EXAMPLES = r'''
- name: Masquerade the pods of both families, not towards ip-masq-agent's default ranges
  kpr.node.kpr_masq:
    ipv4: true
    ipv6: true
    pod_cidrs: [10.32.0.0/16, "fd00:32::/64"]
    ip_masq_agent: defaults

- name: Pods keep their own address
  kpr.node.kpr_masq:
    ipv4: false
    ipv6: false
'''

RETURN = r'''
changed:
  description: Whether a setting changed (or would, in check mode).
  type: bool
  returned: always
masq:
  description: The settings after the change (in check mode, those masq-ctl would set).
  type: dict
  returned: success
  sample: {"ipv4": true, "ipv6": false, "all_devices": true, "devices": [],
           "masq_ip4": null, "masq_ip6": null, "pod_cidrs": ["10.32.0.0/16"],
           "non_masq_cidrs": ["10.0.0.0/8"]}
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kpr.node.plugins.module_utils.kpr import common_args, run_tool

SETTINGS = ('ipv4', 'ipv6', 'all_devices', 'devices', 'masq_ip4', 'masq_ip6', 'pod_cidrs',
            'non_masq_cidrs')
LISTS = (
    ('pod_cidrs', '--pod-cidr'),
    ('non_masq_cidrs', '--non-masq-cidr'),
    ('masq_ip', '--masq-ip'),
    ('devices', '--dev'),
)


def settings(doc):
    return dict((k, doc[k]) for k in SETTINGS if k in doc)


def text(s):
    """The settings as lines, for the diff."""
    out = []
    for k in SETTINGS:
        if k not in s:
            continue
        v = s[k]
        if isinstance(v, bool):
            v = 'on' if v else 'off'
        elif isinstance(v, list):
            v = ' '.join(v) if v else '(none)'
        elif v is None:
            v = '(none)'
        out.append('%s: %s\n' % (k, v))
    return ''.join(out)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            ipv4=dict(type='bool'),
            ipv6=dict(type='bool'),
            pod_cidrs=dict(type='list', elements='str'),
            non_masq_cidrs=dict(type='list', elements='str'),
            ip_masq_agent=dict(type='str'),
            masq_ip=dict(type='list', elements='str'),
            devices=dict(type='list', elements='str'),
            netns=dict(type='str'),
            pin_root=dict(type='path'),
        ),
        mutually_exclusive=[('non_masq_cidrs', 'ip_masq_agent')],
        supports_check_mode=True,
    )
    p = module.params
    base = common_args(p['pin_root'])
    if p['netns']:
        base += ['--netns', p['netns']]
    args = []
    for key in ('ipv4', 'ipv6'):
        if p[key] is not None:
            args += ['--' + key, 'on' if p[key] else 'off']
    for key, opt in LISTS:
        if p[key] is None:
            continue
        if not p[key]:
            module.fail_json(msg='%s: masq-ctl cannot empty the list; give at least one' % key)
        for v in p[key]:
            args += [opt, v]
    if p['ip_masq_agent'] is not None:
        args += ['--ip-masq-agent', p['ip_masq_agent']]
    before = {}
    if module._diff or not args:
        # exit 4: no state on this node yet, nothing set
        rc, doc = run_tool(module, 'masq-ctl', base, ok_rcs=(0, 4))
        before = settings(doc) if rc == 0 else {}
    if not args:
        module.exit_json(changed=False, masq=before)
    if module.check_mode:
        args.append('--dry-run')
    rc, doc = run_tool(module, 'masq-ctl', base + args)
    result = dict(changed=bool(doc.get('changed')), masq=settings(doc))
    if module._diff and result['changed']:
        result['diff'] = dict(before_header='masq-ctl', after_header='masq-ctl',
                              before=text(before), after=text(result['masq']))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
