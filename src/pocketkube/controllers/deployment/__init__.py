"""The Deployment controller: `DeploymentController(client).run()`.

Modules: rollout (pure arithmetic), hashing (pod-template-hash), revisions (annotations),
conditions (status), sync (shared steps), rolling / recreate (one file per strategy), controller.
"""

from pocketkube.controllers.deployment.controller import DeploymentController

__all__ = ["DeploymentController"]
