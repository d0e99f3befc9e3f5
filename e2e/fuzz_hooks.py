"""Schemathesis hooks for keyhouse's fuzz run: keep the run authenticated.

The fuzzer authenticates as `admin`. Left alone it soon rotates, revokes, disables or
deletes that very account, after which every request is 401 and the rest of the run
tests little. A change addressed to `admin` by path is sent to a stand-in account
instead; reads of `admin` go through unchanged.
"""

import schemathesis

PROTECTED = "admin"
STAND_IN = "fuzz-stand-in"


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    params = case.path_parameters
    if params and params.get("name") == PROTECTED and case.method.upper() != "GET":
        params["name"] = STAND_IN
