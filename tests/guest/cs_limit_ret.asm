; umbra-args: -bios {bin} -no-reboot
; Code past the CS limit (SDM vol. 3A, 5.3: a fetch past the limit is a
; #GP(0) at that instruction), reached through linked translated code:
; kb_a calls kb_x, whose RET returns to kb_b (the indirect-target
; cache).  The set-up and checks are in cs_limit_lib.inc.
%define CS_LIMIT_TEST "cs_limit_ret"
%include "cs_limit_lib.inc"

kb_x:
    ret
kb_a:
    inc eax
    call kb_x
kb_b:
    inc ebx
    inc ecx
kb_c:
    inc edx
    ret

    ROM_END
