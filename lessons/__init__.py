"""The mnistkit curriculum: lesson markdown files shipped as package data."""
