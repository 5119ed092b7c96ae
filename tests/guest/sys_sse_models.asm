; -cpu pentium3: CPUID reports SSE but not SSE2, and the machine behaves
; so: SSE arithmetic and SFENCE run, SSE2 instructions (PADDD xmm, ADDPD,
; LFENCE, MOVNTI) and CLFLUSH are #UD, CR4.OSXMMEXCPT can be set.
; umbra-args: -cpu pentium3 -bios {bin} -no-reboot
%include "sys_lib.inc"
[bits 16]
org 0
FAULTVEC equ 0x5e0
RESUME   equ 0x5e4
SCRATCH  equ 0x5000

%macro TRAP 3+
    mov dword [FAULTVEC], -1
    mov dword [RESUME], %%r
    %3
%%r:
    CHK %1, [FAULTVEC], %2
%endmacro

start:
    ENTER_PM32 pm
pm:
    STD_IDT
    SET_GATE 6, h_ud
    mov eax, 1
    cpuid
    mov ebx, eax
    shr ebx, 4
    and ebx, 0xff
    CHK "family/model", ebx, 0x67
    and edx, (1 << 19) | (1 << 23) | (1 << 24) | (1 << 25) | (1 << 26)
    CHK "mmx fxsr sse, no sse2 clflush", edx, (1 << 23) | (1 << 24) | (1 << 25)
    mov eax, cr4
    or eax, (1 << 9) | (1 << 10)
    mov cr4, eax
    mov eax, cr4
    and eax, (1 << 9) | (1 << 10)
    CHK "cr4 osfxsr osxmmexcpt", eax, (1 << 9) | (1 << 10)
    TRAP "addps", -1, addps xmm0, xmm1
    TRAP "sfence", -1, sfence
    TRAP "pavgb mm", -1, pavgb mm0, mm1
    TRAP "paddd xmm", 6, paddd xmm0, xmm1
    TRAP "addpd", 6, addpd xmm0, xmm1
    TRAP "lfence", 6, lfence
    TRAP "movnti", 6, movnti [SCRATCH], eax
    TRAP "clflush", 6, clflush [SCRATCH]
    emms
    FINISH

h_ud: mov dword [FAULTVEC], 6
    add esp, 12                         ; EIP, CS, EFLAGS
    jmp dword [RESUME]

    STD_GDT
    SYS_HELPERS
    UNEXPECTED_STUBS
    ROM_END start
