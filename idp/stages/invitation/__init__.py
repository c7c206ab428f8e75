from idp.stages.invitation.stage import InvitationStage

__all__ = ["InvitationStage"]
