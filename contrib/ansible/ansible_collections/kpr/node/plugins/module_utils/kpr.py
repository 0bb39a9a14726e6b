# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Running kpr's tools from a module: with -o json, whose document says
whether anything changed and carries every error."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json


def common_args(pin_root):
    return ['--pin-root', pin_root] if pin_root else []


def run_tool(module, tool, args, check_rc=True, data=None, ok_rcs=(0,)):
    """Runs TOOL -o json ARGS; returns (rc, document). An exit status
    not in ok_rcs, with check_rc, ends the module with the tool's own
    messages in msg."""
    path = module.get_bin_path(tool, required=True)
    cmd = [path, '-o', 'json'] + args
    rc, out, err = module.run_command(cmd, data=data, binary_data=data is not None)
    try:
        doc = json.loads(out) if out.strip() else {}
    except ValueError:
        doc = {}
        if rc == 0:
            module.fail_json(msg='%s printed no JSON document: %s' % (tool, out), cmd=cmd,
                             stderr=err)
    if rc not in ok_rcs and check_rc:
        errors = doc.get('errors') or ([doc['error']] if doc.get('error') else [])
        msg = '; '.join(errors) if errors else (err.strip() or 'exit %d' % rc)
        module.fail_json(msg='%s failed (exit %d): %s' % (tool, rc, msg), rc=rc, cmd=cmd,
                         stderr=err, errors=errors)
    return rc, doc


def run_text(module, tool, args, ok_rcs=(0,)):
    """Runs TOOL ARGS for its text output (svc-list -o save)."""
    path = module.get_bin_path(tool, required=True)
    cmd = [path] + args
    rc, out, err = module.run_command(cmd)
    if rc not in ok_rcs:
        module.fail_json(msg='%s failed (exit %d): %s' % (tool, rc, err.strip()), rc=rc, cmd=cmd)
    return rc, out
