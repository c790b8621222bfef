"""The program's fence inside the engine: a Pulumi resource hook that refuses a zombie's resource operations.

During a rollout's apply the program finds $LOCKSTEP_LEASE and installs one stack transform that binds the
`lockstep-lease` hook as `before_create`, `before_update` and `before_delete` of every custom resource. The hook reads
the ledger's tip and raises when the lease was taken over, so `pulumi up` itself stops a stale runner before its next
resource operation (pulumi 3.272.0's `pulumi.ResourceHook` / `ResourceOptions(hooks=...)`). Cloud APIs do not check
Lockstep's token, so this is detect-and-contain: an operation already in flight when the lease moves completes, and
verification and drift report it.
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi

from infra.ledger.writer import LeaseCheck

HOOK_NAME = "lockstep-lease"
Callback = Callable[[pulumi.ResourceHookArgs], None]


def callback(check: LeaseCheck) -> Callback:
    """Return the hook function: raise Fenced unless the lease is still this runner's."""
    def before(args: pulumi.ResourceHookArgs) -> None:
        check.require(f"{'delete' if args.new_inputs is None else 'create/update'} of {args.urn}")
    return before


def install(check: LeaseCheck) -> pulumi.ResourceHookBinding:
    """Bind the lease hook to every custom resource the program registers from now on; return the binding."""
    hook = pulumi.ResourceHook(HOOK_NAME, callback(check), opts=pulumi.ResourceHookOptions(on_dry_run=False))
    binding = pulumi.ResourceHookBinding(before_create=[hook], before_update=[hook], before_delete=[hook])
    pulumi.runtime.register_resource_transform(transform(binding))  # the engine runs it for every registration
    return binding


def transform(binding: pulumi.ResourceHookBinding) -> Callable[[pulumi.ResourceTransformArgs],
                                                               pulumi.ResourceTransformResult | None]:
    """Return the stack transform that adds the binding to every custom resource (components need none)."""
    def add(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if not args.custom:
            return None
        return pulumi.ResourceTransformResult(args.props, pulumi.ResourceOptions.merge(
            args.opts, pulumi.ResourceOptions(hooks=binding)))
    return add
