"""The one call point to AWS and how its clients are built: aws_call, target, deadline, answer_limit."""
