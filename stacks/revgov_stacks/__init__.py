"""Revgov's AWS CDK app: a control-plane stack (pooled application, registry, search) and one stack per silo tenant."""
