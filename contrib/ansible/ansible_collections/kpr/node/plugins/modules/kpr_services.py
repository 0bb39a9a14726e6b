#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: kpr_services
short_description: The services of a kpr node (svc-add, svc-list)
description:
  - Creates or updates services in kpr's pinned BPF maps with C(svc-add -o json), from a
    list given here or from a file, and with C(replace) makes the node hold exactly those.
  - C(changed) is the tool's own; a second run of the same task reports nothing changed.
  - Check mode runs C(svc-add --dry-run), which changes nothing. With C(--diff), each service
    that changes is shown before and after, as C(svc-list -o save) lines, under a header
    naming the backends added, removed or changed; in check mode the after side is computed
    on a private copy of the node's services (a pin root of its own, removed afterwards).
  - The tools are found on the node's PATH.
version_added: "0.1.0"
author: kpr
options:
  services:
    description:
      - The services, each a line of C(svc-add -f) (options, FRONTEND, BACKEND...), or a dict.
      - Mutually exclusive with C(src).
    type: list
    elements: raw
    suboptions:
      frontend:
        description: C(ADDR:PORT[/tcp|/udp]), IPv6 in brackets, C(*:PORT) for a NodePort.
        type: str
        required: true
      backends:
        description: C(ADDR:PORT[/tcp|/udp][,weight=N][,state=STATE]) each.
        type: list
        elements: str
        default: []
      type:
        description: The service type.
        type: str
        choices: [clusterip, nodeport, loadbalancer, externalip]
        default: clusterip
      affinity:
        description: Client-IP session affinity timeout in seconds; 0 is off.
        type: int
        default: 0
      algorithm:
        description: Backend selection of this service; the node's (lb-mode) when not given.
        type: str
        choices: [random, maglev]
      mode:
        description: Forwarding of the service's new flows; the node's (lb-mode) when not given.
        type: str
        choices: [snat, dsr]
  src:
    description:
      - A file on the node, of svc-add lines or, with C(format=kubernetes), the JSON of
        C(kubectl get services,endpointslices -A -o json).
    type: path
  format:
    description: What C(src) holds.
    type: str
    choices: [lines, kubernetes]
    default: lines
  replace:
    description: Delete every service the input does not name.
    type: bool
    default: false
  allow_empty:
    description: With C(replace), accept an input without services (which deletes them all).
    type: bool
    default: false
  pin_root:
    description: The pinned state (C(--pin-root)); the tools' default when not given.
    type: path
notes:
  - Every error is the tool's own message, in C(msg).
  - There is no C(netns), since services live in the pinned maps, which belong to no network
    namespace. The devices' namespace is C(kpr_datapath)'s and C(kpr_masq)'s.
'''

EXAMPLES = r'''
- name: DNS and a NodePort
  kpr.node.kpr_services:
    replace: true
    services:
      - 10.96.0.10:53/udp 10.0.1.5:53 10.0.2.7:53
      - frontend: "*:30080"
        type: nodeport
        backends: [10.0.1.5:8080, "10.0.2.7:8080,weight=3"]

- name: The cluster's services
  kpr.node.kpr_services:
    src: /run/kpr/cluster.json
    format: kubernetes
    replace: true
'''

RETURN = r'''
changed:
  description: Whether any service was added, updated or deleted (or would be, in check mode).
  type: bool
  returned: always
services:
  description: svc-add's entries, one per service that changed (and the unchanged ones).
  type: list
  elements: dict
  returned: success
  sample: [{"action": "added", "frontend": "10.96.0.10:53/udp", "id": 1}]
added:
  description: How many services were added; also C(updated), C(deleted), C(unchanged).
  type: int
  returned: success
'''

import os
import shutil

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kpr.node.plugins.module_utils.kpr import common_args, run_text, run_tool

SAVE_OPTS = ('-t', '--type', '--id', '--affinity', '--algorithm', '--mode')
DICT_KEYS = ('frontend', 'backends', 'type', 'affinity', 'algorithm', 'mode')


def dict_line(module, s):
    if not isinstance(s, dict):
        return str(s)
    unknown = set(s) - set(DICT_KEYS)
    if unknown:
        module.fail_json(msg='services: unknown keys %s in %s' % (', '.join(sorted(unknown)), s))
    if not s.get('frontend'):
        module.fail_json(msg='services: a dict needs a frontend: %s' % s)
    words = ['-t', s.get('type') or 'clusterip']
    if s.get('affinity'):
        words += ['--affinity', str(s['affinity'])]
    if s.get('algorithm'):
        words += ['--algorithm', s['algorithm']]
    if s.get('mode'):
        words += ['--mode', s['mode']]
    words += [s['frontend']] + [str(b) for b in s.get('backends') or []]
    for w in words:
        if not w or any(c.isspace() or c == '#' for c in w):
            module.fail_json(msg='services: %r cannot be a word of an svc-add line' % w)
    return ' '.join(words)


def split_save(line):
    """An svc-list -o save line's frontend and its backends by address
    (ADDR:PORT/PROTO, without weight or state); None for a comment."""
    words = line.split()
    if not words or words[0].startswith('#'):
        return None, {}
    i = 0
    while i < len(words) and words[i] in SAVE_OPTS:
        i += 2
    if i >= len(words):
        return None, {}
    return words[i], dict((w.split(',')[0], w) for w in words[i + 1:])


def by_frontend(save):
    """svc-list -o save lines by their frontend."""
    out = {}
    for line in save.splitlines():
        fe, _ = split_save(line)
        if fe:
            out[fe] = line
    return out


def backend_changes(before, after):
    """What changes in a service's backends, one phrase each: the backend
    that a diff of two long lines would leave the reader to find."""
    b = split_save(before)[1] if before else {}
    a = split_save(after)[1] if after else {}
    out = ['backend %s added' % a[k] for k in a if k not in b]
    out += ['backend %s removed' % b[k] for k in b if k not in a]
    out += ['backend %s now %s' % (b[k], a[k]) for k in b if k in a and a[k] != b[k]]
    return out


def diff_entry(fe, before, after):
    what = backend_changes(before, after)
    head = fe + (' (%s)' % '; '.join(what) if what else '')
    return dict(before_header=head, after_header=head,
                before=before + '\n' if before else '', after=after + '\n' if after else '')


def saved(module, pin_root):
    # exit 4: no state on this node yet, so no services
    rc, out = run_text(module, 'svc-list', common_args(pin_root) + ['-o', 'save'], ok_rcs=(0, 4))
    return out if rc == 0 else ''


def svc_add(module, pin_root, p, data, dry_run, check_rc=True):
    args = common_args(pin_root) + ['-f', p['src'] or '-']
    if p['format'] == 'kubernetes':
        args += ['--format', 'kubernetes']
    if p['replace']:
        args.append('--replace')
    if p['allow_empty']:
        args.append('--allow-empty')
    if dry_run:
        args.append('--dry-run')
    if not p['src'] and not data:
        data = b'\n'  # stdin fed, even when it holds no service
    return run_tool(module, 'svc-add', args, data=data, check_rc=check_rc)


def after_on_copy(module, p, data, before):
    """The node's services after the change, computed on a private copy."""
    base = p['pin_root'] or os.environ.get('KPR_PIN_ROOT') or '/sys/fs/bpf/kpr'
    tmp = '%s-ansible-check-%d' % (base.rstrip('/'), os.getpid())
    try:
        copy = {'src': None, 'format': 'lines', 'replace': True, 'allow_empty': True}
        svc_add(module, tmp, copy, before.encode(), False)
        svc_add(module, tmp, p, data, False)
        return saved(module, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            services=dict(type='list', elements='raw'),
            src=dict(type='path'),
            format=dict(type='str', choices=['lines', 'kubernetes'], default='lines'),
            replace=dict(type='bool', default=False),
            allow_empty=dict(type='bool', default=False),
            pin_root=dict(type='path'),
        ),
        mutually_exclusive=[('services', 'src')],
        required_one_of=[('services', 'src')],
        supports_check_mode=True,
    )
    p = module.params
    if p['services'] is not None and p['format'] != 'lines':
        module.fail_json(msg='format: services are svc-add lines or dicts; kubernetes is for src')
    data = None
    if p['services'] is not None:
        data = ''.join(dict_line(module, s) + '\n' for s in p['services']).encode()
    before = saved(module, p['pin_root']) if module._diff else ''
    rc, doc = svc_add(module, p['pin_root'], p, data, module.check_mode)
    for w in doc.get('warnings') or []:
        module.warn('%s: %s' % (w.get('object'), w.get('message')))
    result = dict(changed=bool(doc.get('changed')), services=doc.get('services', []))
    for k in ('added', 'updated', 'deleted', 'unchanged'):
        result[k] = doc.get(k, 0)
    if module._diff and result['changed']:
        after = (after_on_copy(module, p, data, before) if module.check_mode
                 else saved(module, p['pin_root']))
        b, a = by_frontend(before), by_frontend(after)
        result['diff'] = [diff_entry(s['frontend'], b.get(s['frontend']), a.get(s['frontend']))
                          for s in result['services'] if s.get('action') != 'unchanged']
    module.exit_json(**result)


if __name__ == '__main__':
    main()
