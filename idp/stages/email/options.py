from dataclasses import dataclass

from idp.core.options import OptionsError

MAX_SUBJECT_LENGTH = 200


@dataclass(frozen=True)
class EmailOptions:
    subject: str = "Continue with {product_name}"
    token_expiry_minutes: int = 30
    activate_user_on_success: bool = False
    # Links mailed per address (or per name typed) in any hour; more are refused politely.
    # The account's owner, asking from a device they signed in on, has an hour of their own.
    sends_per_hour: int = 5
    # Links mailed at the request of one client IP in any hour, whatever the names typed
    # (shared by every email stage), so one client cannot spend everyone's limit.
    sends_per_hour_per_ip: int = 20

    def validate(self):
        if not self.subject.strip() or len(self.subject) > MAX_SUBJECT_LENGTH:
            raise OptionsError("subject", f"must be 1 to {MAX_SUBJECT_LENGTH} characters")
        if "\r" in self.subject or "\n" in self.subject:
            raise OptionsError("subject", "must be one line")
        if not 1 <= self.token_expiry_minutes <= 7 * 24 * 60:
            raise OptionsError("token_expiry_minutes", "must be between 1 and 10080 (a week)")
        if not 1 <= self.sends_per_hour <= 100:
            raise OptionsError("sends_per_hour", "must be between 1 and 100")
        if not 1 <= self.sends_per_hour_per_ip <= 1000:
            raise OptionsError("sends_per_hour_per_ip", "must be between 1 and 1000")
