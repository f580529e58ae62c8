"""DynamoDB: marshalling, expression builders, client and Table."""
