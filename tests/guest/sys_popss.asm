; POP SS moves ESP by the stack-address size of the stack it pops from,
; the SS in force before the load, not the one it loads (SDM vol. 2, POP).
; Each case sets up SS:ESP, pops a selector into SS and records ESP in the
; instruction after (still inside the POP SS interrupt shadow).
; umbra-args: -bios {bin} -no-reboot
%include "sys_lib.inc"
[bits 16]
org 0
start:
    ENTER_PM32 pm
pm:
    STD_IDT
    ; ---- 16-bit stack, 32-bit operand, new SS 32-bit ----
    mov word [0xfffc], SEL_DATA32
    mov ax, SEL_DATA16
    mov ss, ax
    mov esp, 0xabcdfffc
    pop ss                      ; o32: SP wraps at 64 KiB, high half kept
    mov ebx, esp
    mov esp, 0x7000
    CHK "o32 16->32", ebx, 0xabcd0000
    ; ---- 16-bit stack, 16-bit operand, new SS 32-bit ----
    mov word [0xfffe], SEL_DATA32
    mov ax, SEL_DATA16
    mov ss, ax
    mov esp, 0xabcdfffe
    o16 pop ss
    mov ebx, esp
    mov esp, 0x7000
    CHK "o16 16->32", ebx, 0xabcd0000
    ; ---- 32-bit stack, new SS 16-bit: all 32 bits of ESP move ----
    mov word [0x1fffc], SEL_DATA16
    mov esp, 0x0001fffc
    pop ss
    mov ebx, esp
    mov ax, SEL_DATA32
    mov ss, ax
    mov esp, 0x7000
    CHK "o32 32->16", ebx, 0x00020000
    ; ---- 16-bit stack to 16-bit stack ----
    mov word [0xfffc], SEL_DATA16
    mov ax, SEL_DATA16
    mov ss, ax
    mov esp, 0x1234fffc
    pop ss
    mov ebx, esp
    mov ax, SEL_DATA32
    mov ss, ax
    mov esp, 0x7000
    CHK "o32 16->16", ebx, 0x12340000
    ; ---- POP DS from a 16-bit stack wraps SP as well ----
    mov word [0xfffc], SEL_DATA32
    mov ax, SEL_DATA16
    mov ss, ax
    mov esp, 0x5678fffc
    pop ds
    mov ebx, esp
    mov ax, SEL_DATA32
    mov ss, ax
    mov esp, 0x7000
    CHK "pop ds 16", ebx, 0x56780000
    FINISH

    STD_GDT
    SYS_HELPERS
    UNEXPECTED_STUBS
    ROM_END start
