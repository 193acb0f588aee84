"""Reviews: read what students say and answer their reviews."""
