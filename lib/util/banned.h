/* Functions that are easy to misuse; use snprintf, strncpy with explicit
 * termination, or strtok_r instead (git's banned.h). */
#ifndef RTV_UTIL_BANNED_H
#define RTV_UTIL_BANNED_H

#define RTV_BANNED(func) sorry_##func##_is_banned_in_rtvnet

#undef strcpy
#define strcpy(x, y) RTV_BANNED(strcpy)
#undef strcat
#define strcat(x, y) RTV_BANNED(strcat)
#undef sprintf
#define sprintf(...) RTV_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) RTV_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) RTV_BANNED(strtok)
#undef gets
#define gets(x) RTV_BANNED(gets)

#endif
