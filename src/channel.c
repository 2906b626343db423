/* channel.c - being written this session */
