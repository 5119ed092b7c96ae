; MSRs of memory typing and the TSC: IA32_PAT (0x277) powers on as
; 0x0007040600070406, reads back what was written and refuses reserved
; memory types (2, 3, 8 and up) with #GP(0) (SDM vol. 3A, 11.12); the
; MTRRs refuse reserved types and bits; WRMSR to the TSC writes all 64
; bits; unknown MSRs raise #GP(0) on read and write; CPUID leaf 1
; advertises PAT and MTRR.
; umbra-args: -bios {bin} -no-reboot
%include "sys_lib.inc"
[bits 16]
org 0
GPS equ 0x580        ; #GP count
start:
    ENTER_PM32 pm
pm:
    STD_IDT
    SET_GATE 13, gp_handler
    mov dword [GPS], 0
    mov eax, 1
    cpuid
    and edx, (1 << 16) | (1 << 12)
    CHK "cpuid pat mtrr", edx, (1 << 16) | (1 << 12)
    ; ---- PAT ----
    mov ecx, 0x277
    rdmsr
    CHK "pat reset.lo", eax, 0x00070406
    CHK "pat reset.hi", edx, 0x00070406
    mov eax, 0x01050406         ; WB WT WP WC
    mov edx, 0x07000100         ; UC WC UC UC-
    wrmsr
    xor eax, eax
    xor edx, edx
    rdmsr
    CHK "pat.lo", eax, 0x01050406
    CHK "pat.hi", edx, 0x07000100
    mov eax, 0x00000002         ; PA0 = 2: reserved
    xor edx, edx
    wrmsr
    mov eax, 0x00000406
    mov edx, 0x00000800         ; PA5 = 8: reserved bit 3
    wrmsr
    mov eax, 0x00000306         ; PA1 = 3: reserved
    xor edx, edx
    wrmsr
    CHK "pat #gp", [GPS], 3
    rdmsr
    CHK "pat kept.lo", eax, 0x01050406
    ; ---- MTRRs ----
    mov dword [GPS], 0
    mov ecx, 0x200              ; PhysBase0: type 2 reserved
    mov eax, 0x00000002
    xor edx, edx
    wrmsr
    mov ecx, 0x201              ; PhysMask0: bits 10:0 reserved
    mov eax, 0x00000801
    wrmsr
    mov ecx, 0x250              ; fixed 64K: a reserved type in byte 3
    mov eax, 0x03060606
    wrmsr
    mov ecx, 0x2ff              ; MTRRdefType: bit 12 reserved
    mov eax, 0x1006
    wrmsr
    mov ecx, 0xfe               ; MTRRcap is read-only
    mov eax, 0x508
    wrmsr
    CHK "mtrr #gp", [GPS], 5
    mov ecx, 0x258
    mov eax, 0x06050401
    mov edx, 0x00060504
    wrmsr
    xor eax, eax
    rdmsr
    CHK "mtrr fix16k", eax, 0x06050401
    mov ecx, 0x20f              ; the last variable pair VCNT = 8 gives
    mov eax, 0xfff00800
    mov edx, 0xf
    wrmsr
    rdmsr
    CHK "mtrr mask7", eax, 0xfff00800
    mov dword [GPS], 0
    mov ecx, 0x210              ; past VCNT: no such MSR
    rdmsr
    CHK "mtrr 0x210 #gp", [GPS], 1
    ; ---- TSC: all 64 bits ----
    mov ecx, 0x10
    mov eax, 0x12345678
    mov edx, 0x00abcdef
    wrmsr
    rdtsc
    CHK "tsc.hi", edx, 0x00abcdef
    sub eax, 0x12345678
    cmp eax, 16
    setb bl
    movzx ebx, bl
    CHK "tsc.lo", ebx, 1
    ; ---- unknown MSRs ----
    mov dword [GPS], 0
    mov ecx, 0x12345
    rdmsr
    wrmsr
    mov ecx, 0xc0000081         ; STAR: no SYSCALL on this processor
    rdmsr
    CHK "unknown #gp", [GPS], 3
    FINISH

; #GP: count and step over the 2-byte RDMSR/WRMSR.
gp_handler:
    inc dword [GPS]
    add dword [esp + 4], 2      ; past the error code: EIP
    add esp, 4                  ; drop the error code
    iretd

    STD_GDT
    SYS_HELPERS
    UNEXPECTED_STUBS
    ROM_END start
