/* cli.c - being written this session */
