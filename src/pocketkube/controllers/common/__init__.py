"""What the controllers share and Kubernetes keeps in `pkg/controller`: expectations
(`expectations`) and claiming objects through ownerReferences (`ownership`).

Controller packages may not import each other (an import-linter `independence` contract); what two
of them need lives here or in `pocketkube.api`.
"""
