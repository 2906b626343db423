/* fqdn.h - being written this session */
