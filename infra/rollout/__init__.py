"""The merge-to-main rollout: gate every stack, lease the stack, apply and verify wave by wave, roll back, resume."""
