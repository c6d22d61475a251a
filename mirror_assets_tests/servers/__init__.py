"""Real servers the tests start as plain processes on 127.0.0.1: moto's S3, Swift, a fault proxy."""
