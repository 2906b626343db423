/* cli.h - being written this session */
