"""Email through an SMTP relay with aiosmtplib, over a few reused connections."""
