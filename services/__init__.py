"""S3 and DynamoDB clients on httpx, shaped like boto3's."""
