"""What each command or click does, once acknowledged: policy, provisioning, replies."""
