"""Cloud and local providers behind small ports: speech-to-text and advisors."""
