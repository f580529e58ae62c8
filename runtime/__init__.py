"""The AWS Lambda custom runtime: Runtime API loop, events, local serving."""
