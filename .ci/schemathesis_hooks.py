"""Schemathesis hooks for .ci/schemathesis.sh.

The run acts as one admin (its token is the only credential). Operations on user accounts
(PATCH, deactivate, activate, set-password) are tested against every other account, but never
against that admin's own: deactivating or re-keying it would revoke the token and leave the
rest of the run with nothing but 401s. Such a case is sent for an account id that does not
exist instead (a documented 404).
"""

import os

import schemathesis

OWN_ID = os.environ.get("PRAXI_SCHEMATHESIS_ADMIN_ID", "")
MISSING_ID = 999999


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if not case.operation.path.startswith("/api/users/{id}/"):
        return
    parameters = case.path_parameters or {}
    if str(parameters.get("id")) == OWN_ID:
        parameters["id"] = MISSING_ID
