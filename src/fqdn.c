/* fqdn.c - being written this session */
