; Debug registers: an instruction breakpoint (fault before the instruction,
; resumed with RF), a data write breakpoint (trap after the write, reads
; ignored), a read/write breakpoint, and DR7.GD turning a debug-register
; access into a #DB fault with DR6.BD.
; umbra-args: -bios {bin} -no-reboot
%include "sys_lib.inc"
[bits 16]
org 0
HITS equ 0x580
LDR6 equ 0x584
LEIP equ 0x588
start:
    ENTER_PM32 pm
pm:
    STD_IDT
    SET_GATE 1, db_handler
    mov dword [HITS], 0
    ; ---- instruction breakpoint on bp_target ----
    mov eax, ROM + bp_target
    mov dr0, eax
    mov eax, 0x401              ; L0, R/W0 = execute
    mov dr7, eax
    nop
bp_target:
    nop
    CHK "insn hits", [HITS], 1
    mov eax, [LDR6]
    and eax, 0x400f
    CHK "insn dr6", eax, 1
    CHK "insn eip", [LEIP], bp_target
    ; ---- data write breakpoint on the dword at 0x4000 ----
    mov dword [HITS], 0
    mov eax, 0x4000
    mov dr1, eax
    mov eax, 0x400 | (1 << 2) | (0xd << 20) ; L1, R/W1 = write, LEN1 = 4
    mov dr7, eax
    mov al, [0x4002]            ; a read: no hit
    mov byte [0x4004], 1        ; outside: no hit
    CHK "write quiet", [HITS], 0
    mov byte [0x4002], 7
after_write:
    CHK "write hits", [HITS], 1
    mov eax, [LDR6]
    and eax, 0xf
    CHK "write dr6", eax, 2
    CHK "write eip", [LEIP], after_write
    mov byte [0x4001], 8        ; again: the page stays watched
    CHK "write hits2", [HITS], 2
    ; ---- read/write breakpoint ----
    mov eax, 0x400 | (1 << 2) | (0xf << 20) ; R/W1 = read/write
    mov dr7, eax
    mov ax, [0x3fff]            ; straddles into the watched dword
    CHK "rw hits", [HITS], 3
    ; ---- DR7.GD ----
    mov dword [HITS], 0
    mov eax, 0x2400
    mov dr7, eax
gd_insn:
    mov eax, dr0                ; #DB fault; GD is cleared, so it reruns
    CHK "gd hits", [HITS], 1
    mov eax, [LDR6]
    and eax, 0x2000
    CHK "gd dr6.bd", eax, 0x2000
    CHK "gd eip", [LEIP], gd_insn
    mov eax, dr7
    and eax, 0x2000
    CHK "gd cleared", eax, 0
    mov eax, dr0
    CHK "dr0 kept", eax, ROM + bp_target
    FINISH

; #DB: count, record DR6 and the pushed EIP, clear DR6, resume with RF.
db_handler:
    push eax
    inc dword [HITS]
    mov eax, dr6
    mov [LDR6], eax
    mov eax, [esp + 4]
    mov [LEIP], eax
    xor eax, eax
    mov dr6, eax
    or dword [esp + 12], 1 << 16
    pop eax
    iretd

    STD_GDT
    SYS_HELPERS
    UNEXPECTED_STUBS
    ROM_END start
